import Foundation
import KvorumCerts
import Testing

@testable import KvorumServer

/// Loading a node's certificate directory (`NodeTLS.load`): what a usable
/// directory gives, and the error that names the file for each way one is
/// unusable.
struct NodeTLSTests {
    /// A CA and node1's directory in a fresh temporary directory.
    final class Fixture {
        let certificates: TestCertificates
        let node1: URL

        init() throws {
            certificates = try TestCertificates(
                root: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "kvorum-nodetls-\(UUID().uuidString)"))
            node1 = try certificates.node("node1", hosts: ["127.0.0.1", "node1.internal"])
        }

        deinit { try? FileManager.default.removeItem(at: certificates.root) }

        func load(_ directory: URL? = nil, name: String = "node1", now: Date = Date()) throws(NodeTLSError) -> NodeTLS {
            try NodeTLS.load(directory: (directory ?? node1).path, nodeName: name, now: now)
        }

        func error(_ directory: URL? = nil, name: String = "node1", now: Date = Date()) -> NodeTLSError? {
            do {
                _ = try load(directory, name: name, now: now)
                return nil
            } catch {
                return error
            }
        }
    }

    @Test func aUsableDirectoryGivesTheNodesNameAndHosts() throws {
        let fixture = try Fixture()
        let tls = try fixture.load()
        #expect(tls.certificate.commonName == "node1")
        #expect(tls.certificate.hosts == [.ipAddress([127, 0, 0, 1]), .dnsName("node1.internal")])
        #expect(tls.expires > Date().addingTimeInterval(29 * 86_400))
    }

    @Test(arguments: ["ca.crt", "node.crt", "node.key"])
    func aMissingFileIsNamed(file: String) throws {
        let fixture = try Fixture()
        let path = fixture.node1.appendingPathComponent(file)
        try FileManager.default.removeItem(at: path)
        #expect(fixture.error() == .missingFile(path: path.path))
        #expect(fixture.error()!.description.contains("kvorum certs create-node"))
    }

    @Test func garbageIsNamed() throws {
        let fixture = try Fixture()
        let path = fixture.node1.appendingPathComponent("node.crt")
        try Data("not a certificate".utf8).write(to: path)
        #expect(fixture.error() == .unreadable(path: path.path, reason: "not a PEM certificate"))
    }

    /// node2's key next to node1's certificate.
    @Test func aKeyOfAnotherCertificateIsRefused() throws {
        let fixture = try Fixture()
        let node2 = try fixture.certificates.node("node2")
        let key = fixture.node1.appendingPathComponent("node.key")
        try FileManager.default.removeItem(at: key)
        try FileManager.default.copyItem(at: node2.appendingPathComponent("node.key"), to: key)
        #expect(
            fixture.error()
                == .keyMismatch(certificate: fixture.node1.appendingPathComponent("node.crt").path, key: key.path))
    }

    @Test func anExpiredOrFutureCertificateIsRefusedWithItsDate() throws {
        let fixture = try Fixture()
        let tls = try fixture.load()
        let path = fixture.node1.appendingPathComponent("node.crt").path
        let late = tls.expires.addingTimeInterval(1)
        #expect(fixture.error(now: late) == .expired(path: path, expired: tls.expires))
        #expect(fixture.error(now: late)!.description.contains("expired at"))
        guard case .notYetValid(path, _)? = fixture.error(now: Date().addingTimeInterval(-86_400)) else {
            Issue.record("a certificate used before its start was accepted")
            return
        }
    }

    /// A node started under another name than its certificate's would be
    /// refused by every peer, so it does not start.
    @Test func aCertificateForAnotherNameIsRefused() throws {
        let fixture = try Fixture()
        #expect(
            fixture.error(name: "node2")
                == .wrongName(
                    path: fixture.node1.appendingPathComponent("node.crt").path, certificateName: "node1",
                    nodeName: "node2"))
    }
}

/// `PeerIdentity`: which certificate may speak for which claimed name and
/// address, and why not.
struct PeerIdentityTests {
    static let n2 = PeerCertificate(commonName: "n2", hosts: [.ipAddress([127, 0, 0, 1]), .dnsName("n2.internal")])
    static let members: [String: String] = ["127.0.0.1:7002": "n2", "127.0.0.1:7003": "n3"]

    static func check(
        _ certificate: PeerCertificate = n2, claiming name: String?, at address: String,
        members: [String: String] = members
    ) -> PeerRefusal? {
        PeerIdentity.refusal(of: certificate, claimedName: name, address: address, memberAt: { members[$0] })
    }

    @Test func theRightCertificateIsAccepted() {
        #expect(Self.check(claiming: "n2", at: "127.0.0.1:7002") == nil)
        // A node not yet a member (joining), under its own name.
        #expect(Self.check(claiming: "n2", at: "127.0.0.1:7009") == nil)
        // A DNS name, in any case; the dialer, which knows no claimed name.
        #expect(Self.check(claiming: "n2", at: "N2.Internal:7002") == nil)
        #expect(Self.check(claiming: nil, at: "127.0.0.1:7002") == nil)
        #expect(Self.check(claiming: nil, at: "n2.internal:7000", members: [:]) == nil)
    }

    @Test func aCertificateWithoutANameIsRefused() {
        for name in [nil, ""] as [String?] {
            let nameless = PeerCertificate(commonName: name, hosts: Self.n2.hosts)
            #expect(Self.check(nameless, claiming: "n2", at: "127.0.0.1:7002") == .noCommonName)
        }
    }

    /// The impersonation of n4 on one machine: every certificate names
    /// 127.0.0.1, so the name is what tells nodes apart.
    @Test func aCertificateForAnotherNameIsRefused() {
        let n4 = PeerCertificate(commonName: "n4", hosts: [.ipAddress([127, 0, 0, 1])])
        let claimed = Self.check(n4, claiming: "n2", at: "127.0.0.1:7002")
        #expect(claimed == .nameMismatch(certificate: "n4", claimed: "n2"))
        #expect(claimed?.description == "peer certificate is for n4 but the hello claims n2")
        #expect(claimed?.reason == .nameMismatch)
        // Its own name, but a member's address: on either side of the connection.
        for name in ["n4", nil] as [String?] {
            let refusal = Self.check(n4, claiming: name, at: "127.0.0.1:7003")
            #expect(refusal == .memberMismatch(address: "127.0.0.1:7003", member: "n3", certificate: "n4"))
            #expect(refusal?.description == "127.0.0.1:7003 is member n3's address but the peer certificate is for n4")
        }
    }

    @Test func anAddressTheCertificateDoesNotNameIsRefused() {
        let refusal = Self.check(claiming: "n2", at: "10.0.0.2:7002")
        #expect(
            refusal
                == .hostNotInCertificate(
                    address: "10.0.0.2:7002", certificate: "n2", hosts: ["IP:127.0.0.1", "DNS:n2.internal"]))
        #expect(refusal?.reason == .hostNotInCertificate)
        #expect(Self.check(claiming: "n2", at: "localhost:7002")?.reason == .hostNotInCertificate)
        #expect(Self.check(claiming: "n2", at: "[::1]:7002")?.reason == .hostNotInCertificate)
        #expect(Self.check(claiming: nil, at: "no-port")?.reason == .hostNotInCertificate)
    }

    @Test func aJoinMustNameTheConnectionsCertificate() {
        #expect(PeerIdentity.joinRefusal(joiningName: "n4", connectionName: "n4") == nil)
        let refusal = PeerIdentity.joinRefusal(joiningName: "n2", connectionName: "n4")
        #expect(refusal == .joinMismatch(joining: "n2", certificate: "n4"))
        #expect(refusal?.description == "join request for n2 came on a connection whose certificate is for n4")
    }

    @Test func everyReasonHasItsOwnLabel() {
        let labels = PeerRefusal.Reason.allCases.map(\.rawValue)
        #expect(Set(labels).count == labels.count)
        #expect(PeerRefusal.handshake("x").reason.rawValue == "tls_handshake")
    }
}
