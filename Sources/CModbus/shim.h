#ifndef COOPEDGE_CMODBUS_SHIM_H
#define COOPEDGE_CMODBUS_SHIM_H
#include <modbus/modbus.h>
#include <errno.h>
#include <sys/select.h>

// libmodbus reports protocol faults as errno values built from MODBUS_ENOBASE; Swift cannot import
// those macro expressions, so they are re-exported here with a prefix.
static inline int CModbus_EMBXILFUN(void) { return EMBXILFUN; }
static inline int CModbus_EMBXILADD(void) { return EMBXILADD; }
static inline int CModbus_EMBXILVAL(void) { return EMBXILVAL; }
static inline int CModbus_EMBXSFAIL(void) { return EMBXSFAIL; }
static inline int CModbus_EMBXACK(void) { return EMBXACK; }
static inline int CModbus_EMBXSBUSY(void) { return EMBXSBUSY; }
static inline int CModbus_EMBXNACK(void) { return EMBXNACK; }
static inline int CModbus_EMBXMEMPAR(void) { return EMBXMEMPAR; }
static inline int CModbus_EMBXGPATH(void) { return EMBXGPATH; }
static inline int CModbus_EMBXGTAR(void) { return EMBXGTAR; }
static inline int CModbus_EMBBADCRC(void) { return EMBBADCRC; }
static inline int CModbus_EMBBADDATA(void) { return EMBBADDATA; }
static inline int CModbus_EMBBADEXC(void) { return EMBBADEXC; }
static inline int CModbus_EMBMDATA(void) { return EMBMDATA; }
static inline int CModbus_EMBBADSLAVE(void) { return EMBBADSLAVE; }
static inline int CModbus_ENOBASE(void) { return MODBUS_ENOBASE; }

// fd_set manipulation is macro-only in glibc.
static inline void CModbus_FD_ZERO(fd_set *set) { FD_ZERO(set); }
static inline void CModbus_FD_SET(int fd, fd_set *set) { FD_SET(fd, set); }
static inline int CModbus_FD_ISSET(int fd, fd_set *set) { return FD_ISSET(fd, set); }
static inline void CModbus_FD_CLR(int fd, fd_set *set) { FD_CLR(fd, set); }
static inline int CModbus_errno(void) { return errno; }
#endif
