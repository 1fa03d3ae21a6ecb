#include <sqlite3.h>

/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS). With
/// them on, every allocation and every free takes a process-wide mutex to
/// count bytes that Kvorum never reads: some twenty mutex round trips per
/// write on each node. It only works before SQLite initializes (the first
/// connection opened); after that it returns SQLITE_MISUSE and changes
/// nothing. A function here because Swift cannot call the variadic
/// sqlite3_config.
static inline int kvorum_sqlite3_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
