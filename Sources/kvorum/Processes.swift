import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starting, watching and inspecting the node processes of a local cluster
/// (Linux: `posix_spawn`, `waitpid` and `/proc`).
enum Processes {
    /// The path of the running `kvorum` executable: `/proc/self/exe`, else
    /// `CommandLine.arguments[0]` made absolute.
    static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return path
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Starts `executable` with `arguments` and `environment` in its own
    /// process group, with standard input from /dev/null, standard output and
    /// error appended to `log`, and SIGINT, SIGTERM and SIGHUP back at their
    /// default handling (the caller ignores them to handle them itself).
    ///
    /// - Returns: the child's process id.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], log: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let envp = environment.keys.sorted().map { strdup("\($0)=\(environment[$0]!)") } + [nil]
        defer { for variable in envp { free(variable) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw CLIError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Waits on a background thread until the child `pid` exits, then calls
    /// `exited` with its wait status.
    static func watch(_ pid: pid_t, exited: @escaping @Sendable (Int32) -> Void) {
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            exited(status)
        }
    }

    /// How a wait status reads: `exited with status 1`, `killed by signal 9`.
    static func describe(waitStatus status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "exited with status \((status >> 8) & 0xFF)" : "was killed by signal \(signal)"
    }

    /// Whether `pid` is a live process (not a zombie) whose command line
    /// contains every one of `words` — so a recorded pid that the system
    /// has since given to another program does not count.
    static func isRunning(_ pid: Int32, commandLineContains words: [String]) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        guard state != "Z", state != "X",
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
        else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return words.allSatisfy { arguments.contains($0) }
    }

    /// The last `count` lines of the file at `path` that follow the last
    /// line starting with `marker` (empty if unreadable).
    static func tail(_ path: String, lines count: Int, after marker: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var lines = String(decoding: data.suffix(16384), as: UTF8.self).split(separator: "\n").map(String.init)
        if let start = lines.lastIndex(where: { $0.hasPrefix(marker) }) { lines.removeFirst(start + 1) }
        return Array(lines.suffix(count))
    }
}
