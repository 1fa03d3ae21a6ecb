import CSQLite
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The lock that gives a data directory to one process: an exclusive
/// `flock(2)` on `kvorum.lock` beside the store, held while the store is
/// open. The kernel drops it when the process dies, however it dies, so a
/// crashed node never leaves a stale lock behind.
///
/// A second process (or a second open in this one: each open gets its own
/// lock) waits up to its timeout for the holder to let go, then fails.
final class StoreLock {
    /// The lock file.
    let path: String
    /// The open lock file; -1 once released.
    private var descriptor: Int32

    /// Takes the lock on `path`, creating the file as needed, polling every
    /// 20 ms for at most `timeout` seconds while another holder has it.
    init(path: String, timeout: Double) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SQLiteStorageError("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(descriptor)
                throw SQLiteStorageError("cannot lock \(path): \(String(cString: strerror(failure)))")
            }
            guard Date() < deadline else {
                close(descriptor)
                throw SQLiteStorageError(code: SQLITE_BUSY, "\(path) is held by another open of the store")
            }
            usleep(20_000)
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Lets the lock go; idempotent.
    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }
}
