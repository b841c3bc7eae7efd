#ifndef COOPEDGE_CPLATFORM_SHIM_H
#define COOPEDGE_CPLATFORM_SHIM_H
#include <sys/timex.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>

// 1 when the kernel says the clock is synchronised (NTP has set it), 0 when not, -1 on error.
// adjtimex with modes 0 only reads; any user may call it. Glibc's Swift module does not export
// <sys/timex.h>, hence this shim.
static inline int CPlatform_clock_synced(void) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state == -1) return -1;
    return (state == TIME_ERROR || (tx.status & STA_UNSYNC)) ? 0 : 1;
}

// The build id ("4b1d973, 2026-12-02") that `make release` links in as a one-symbol object
// (scripts/build-id.sh writes it). A weak reference: a plain `swift build` links no such object
// and gets NULL, which the agent prints as "dev".
static inline const char *CPlatform_build_id(void) {
    extern const char coop_edge_build_id[] __attribute__((weak));
    return coop_edge_build_id;
}

// Names the calling thread as `top -H` shows it (the kernel keeps 15 bytes). pthread_setname_np
// needs _GNU_SOURCE, which Glibc's Swift module is not built with; prctl is the same call.
static inline void CPlatform_name_this_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
// Opens a new pseudo-terminal pair (as posix_openpt + grantpt + unlockpt, which Glibc's Swift module
// does not export without _XOPEN_SOURCE): returns the master's descriptor and writes the serial
// end's path ("/dev/pts/N") into `name`, or -1 with errno set.
static inline int CPlatform_open_pty(char *name, size_t length) {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (master < 0) return -1;
    int unlock = 0, number = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) != 0 || ioctl(master, TIOCGPTN, &number) != 0) {
        int e = errno;
        close(master);
        errno = e;
        return -1;
    }
    snprintf(name, length, "/dev/pts/%d", number);
    return master;
}

#endif
