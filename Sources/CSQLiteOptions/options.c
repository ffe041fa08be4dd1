#include "CSQLiteOptions.h"

// sqlite-nio's SQLite (its VaporCSQLite target, linked into every binary that uses SQLiteNIO)
// prefixes every symbol with `sqlite_nio_`; its header is not on this target's path, so the two
// declarations it needs are repeated here, as sqlite3.h gives them.
int sqlite_nio_sqlite3_db_config(void *connection, int op, ...);
#define SQLITE_DBCONFIG_ENABLE_QPSG 1007

int tessera_sqlite_enable_qpsg(void *connection, int *enabled) {
    return sqlite_nio_sqlite3_db_config(connection, SQLITE_DBCONFIG_ENABLE_QPSG, 1, enabled);
}
