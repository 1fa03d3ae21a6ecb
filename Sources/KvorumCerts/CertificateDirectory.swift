import Crypto
import Foundation
import X509

/// Where the certificate files live, and the making and listing of them.
///
/// The layout follows `cockroach cert`: one directory holds `ca.crt`, the
/// node's `node.crt`/`node.key` (so a directory serves one node, and a
/// node's settings name the directory, not the node) and any number of
/// `client.NAME.crt`/`client.NAME.key`. The CA key defaults to `ca.key` in
/// the same directory, but it signs every certificate the cluster trusts,
/// so it belongs somewhere else (`--ca-key`): nodes need only `ca.crt`.
/// Keys are written with mode 0600, certificates with 0644.
public struct CertificateDirectory: Sendable {
    /// The kind of a certificate file, told by its name.
    public enum Kind: Sendable, Equatable {
        case authority
        case node
        case client(String)
    }

    public let directory: URL
    public let caKeyFile: URL

    /// `caKey` defaults to `ca.key` inside `directory`.
    public init(directory: URL, caKey: URL? = nil) {
        self.directory = directory
        self.caKeyFile = caKey ?? directory.appendingPathComponent("ca.key")
    }

    public var caCertificateFile: URL { directory.appendingPathComponent("ca.crt") }

    /// The certificate and key files of a node or client.
    public func files(_ kind: Kind) -> (certificate: URL, key: URL) {
        switch kind {
        case .authority: (caCertificateFile, caKeyFile)
        case .node: (directory.appendingPathComponent("node.crt"), directory.appendingPathComponent("node.key"))
        case .client(let name):
            (
                directory.appendingPathComponent("client.\(name).crt"),
                directory.appendingPathComponent("client.\(name).key")
            )
        }
    }

    /// Makes a new CA and writes `ca.crt` and the CA key.
    @discardableResult
    public func createAuthority(lifetime days: Int, overwrite: Bool, now: Date = Date()) throws
        -> CertificateAuthority
    {
        try refuseExisting([caCertificateFile, caKeyFile], overwrite: overwrite)
        let authority = try CertificateAuthority.create(lifetime: days, now: now)
        try write(authority.issued, to: files(.authority))
        return authority
    }

    /// Makes `node.crt`/`node.key` for node `name`, signed by the CA.
    @discardableResult
    public func createNode(
        name: String, hosts: [CertificateHost], lifetime days: Int, overwrite: Bool, now: Date = Date()
    ) throws -> IssuedCertificate {
        try Self.check(name: name)
        let authority = try loadAuthority()
        let paths = files(.node)
        try refuseExisting([paths.certificate, paths.key], overwrite: overwrite)
        let issued = try authority.issueNode(name: name, hosts: hosts, lifetime: days, now: now)
        try write(issued, to: paths)
        return issued
    }

    /// Makes `client.NAME.crt`/`client.NAME.key` for user `name`, signed by
    /// the CA.
    @discardableResult
    public func createClient(name: String, lifetime days: Int, overwrite: Bool, now: Date = Date()) throws
        -> IssuedCertificate
    {
        try Self.check(name: name)
        let authority = try loadAuthority()
        let paths = files(.client(name))
        try refuseExisting([paths.certificate, paths.key], overwrite: overwrite)
        let issued = try authority.issueClient(name: name, lifetime: days, now: now)
        try write(issued, to: paths)
        return issued
    }

    /// Reads `ca.crt` and the CA key; throws ``CertificateError/missingAuthority(path:)``
    /// if either is absent.
    public func loadAuthority() throws -> CertificateAuthority {
        for file in [caCertificateFile, caKeyFile] where !FileManager.default.fileExists(atPath: file.path) {
            throw CertificateError.missingAuthority(path: file.path)
        }
        let certificate = try Self.readCertificate(caCertificateFile)
        let keyText = try Self.readText(caKeyFile)
        let key: P256.Signing.PrivateKey
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: keyText)
        } catch {
            throw CertificateError.unreadable(path: caKeyFile.path, reason: "not a P-256 private key in PEM")
        }
        do {
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch {
            throw CertificateError.keyMismatch(certificate: caCertificateFile.path, key: caKeyFile.path)
        }
    }

    /// Every `*.crt` file in the directory, by file name.
    public func list() throws -> [ListedCertificate] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return try names.filter { $0.hasSuffix(".crt") }.sorted().map { name in
            ListedCertificate(file: name, certificate: try Self.readCertificate(directory.appendingPathComponent(name)))
        }
    }

    /// Reads one PEM certificate.
    public static func readCertificate(_ file: URL) throws -> Certificate {
        let text = try readText(file)
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw CertificateError.unreadable(path: file.path, reason: "not a certificate in PEM (\(error))")
        }
    }

    private static func readText(_ file: URL) throws -> String {
        do {
            return try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw CertificateError.unreadable(path: file.path, reason: "\(error.localizedDescription)")
        }
    }

    /// A name becomes part of a file name and a CN: letters, digits, `-`,
    /// `_` and `.`, not starting with a dot (so never `..` or a hidden file).
    private static func check(name: String) throws {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !name.isEmpty, !name.hasPrefix("."), name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw CertificateError.invalidName(name)
        }
    }

    /// Checks every file before writing any, so a refusal leaves nothing
    /// half made.
    private func refuseExisting(_ files: [URL], overwrite: Bool) throws {
        guard !overwrite else { return }
        for file in files where FileManager.default.fileExists(atPath: file.path) {
            throw CertificateError.fileExists(path: file.path)
        }
    }

    private func write(_ issued: IssuedCertificate, to paths: (certificate: URL, key: URL)) throws {
        for file in [paths.certificate, paths.key] {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        try Self.write(issued.keyPEM, to: paths.key, mode: 0o600)
        try Self.write(try issued.certificatePEM(), to: paths.certificate, mode: 0o644)
    }

    /// Replaces `file` with `text`, creating it with `mode` from the start
    /// (a key is never readable by others, not even for a moment).
    private static func write(_ text: String, to file: URL, mode: mode_t) throws {
        if unlink(file.path) != 0 && errno != ENOENT {
            throw CertificateError.unwritable(path: file.path, reason: String(cString: strerror(errno)))
        }
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else {
            throw CertificateError.unwritable(path: file.path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        // The umask may have taken bits away; set exactly `mode`.
        fchmod(descriptor, mode)
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw CertificateError.unwritable(path: file.path, reason: String(cString: strerror(errno)))
            }
            written += count
        }
    }
}

/// One certificate file as `kvorum certs list` shows it.
public struct ListedCertificate: Sendable {
    public let file: String
    public let certificate: Certificate

    public var subject: String { certificate.subject.description }
    public var issuer: String { certificate.issuer.description }
    public var expires: Date { certificate.notValidAfter }

    /// The DNS names and IP addresses in the subjectAltName, in order.
    public var hosts: [CertificateHost] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap(CertificateHost.init)
    }
}
