#ifndef COOPEDGE_CSQLITE_SHIM_H
#define COOPEDGE_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro: Swift cannot import it.
static inline sqlite3_destructor_type CSQLite_TRANSIENT(void) { return SQLITE_TRANSIENT; }
#endif
