// What the SQLite driver (Sources/TesseraStorage/SQLite) needs from sqlite-nio's copy of SQLite
// that Swift cannot call itself: `sqlite3_db_config` is variadic.
#ifndef TESSERA_CSQLITEOPTIONS_H
#define TESSERA_CSQLITEOPTIONS_H

/// Turns on the query planner stability guarantee (SQLITE_DBCONFIG_ENABLE_QPSG) on `connection`
/// (a `sqlite3 *`): a prepared statement keeps its plan whatever values are bound to it, instead
/// of being compiled again on the next step after a parameter that may change the plan (a LIMIT,
/// a LIKE pattern, a value compared with a partial index's condition) is bound anew.
/// Returns SQLite's result code and whether the option is now on.
int tessera_sqlite_enable_qpsg(void *connection, int *enabled);

#endif
