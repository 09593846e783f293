import Foundation
@testable import NodeControl
import TapyrusEncoding
import Testing

@Suite("NodeControl unit: RPC coding, errors, config and binaries")
struct NodeControlRPCCodingTests {
    @Test("A request encodes as JSON-RPC 1.0 with positional parameters")
    func requestEncoding() throws {
        let body = RPCRequest(id: 7, method: "generatetoaddress", params: [3, "addr", "wif"]).encoded()
        let object = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        #expect(object["jsonrpc"] == "1.0")
        #expect(object["id"] == 7)
        #expect(object["method"] == "generatetoaddress")
        #expect(object["params"] == [3, "addr", "wif"])
    }

    @Test("A response with an error object maps to RPCError.server with the node's code and message")
    func errorMapping() throws {
        let body = Array(#"{"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":1}"#.utf8)
        let response = try #require(RPCResponse.decode(body))
        #expect(throws: RPCError.server(method: "getblockhash", code: -8, message: "Block height out of range")) {
            try response.result(for: "getblockhash")
        }
        let error = RPCError.server(method: "getblockhash", code: -8, message: "Block height out of range")
        #expect(error.code == -8)
        #expect(error.description.contains("invalid parameter"))
        #expect(!error.description.contains("\n"))
    }

    @Test("A successful response yields its result; numbers keep integer or fraction form")
    func resultDecoding() throws {
        let body = Array(#"{"result":{"blocks":3,"fee":0.000045,"ok":true,"tx":["a"]},"error":null,"id":2}"#.utf8)
        let result = try #require(RPCResponse.decode(body)).result(for: "x")
        #expect(result["blocks"] == .int(3))
        #expect(result["fee"]?.doubleValue == 0.000045)
        #expect(result["ok"]?.boolValue == true)
        #expect(result["tx"]?[0]?.stringValue == "a")
        #expect(Amount(rpcValue: 0.000045).units == 4500)
        #expect(Amount.tpc(50).units == DevNetwork.coinbaseValue)
        #expect(Amount(units: 150_000_000).description == "1.50000000 TPC")
    }

    @Test("testmempoolaccept's two answer forms are read")
    func mempoolAcceptance() throws {
        let perTx: JSONValue = ["ab": ["allowed": true], "cd": ["allowed": false, "reject-reason": "16: bad"]]
        let parsed = try MempoolAcceptance(perTx)
        #expect(parsed.verdicts["cd"]?.rejectReason == "16: bad")
        #expect(!parsed.allAllowed)
        let package = try MempoolAcceptance(["allowed": false, "reject-reason": "18: txn-already-known"])
        #expect(package.packageRejectReason == "18: txn-already-known")
    }

    @Test("HTTP responses with Content-Length and chunked bodies parse")
    func httpParsing() throws {
        let plain = Array("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}".utf8)
        #expect(HTTPResponse.parse(plain) == HTTPResponse(status: 500, headers: ["content-length": "2"], body: Array("{}".utf8)))
        let chunked = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".utf8)
        #expect(HTTPResponse.parse(chunked)?.body == Array("abcde".utf8))
        #expect(HTTPResponse.parse(Array("garbage".utf8)) == nil)
    }

    @Test("Cookie files parse as user:password; malformed ones are rejected")
    func cookieParsing() {
        let cookie = RPCCredentials.parseCookie("__cookie__:d11e0b80abc\n")
        #expect(cookie == RPCCredentials(user: "__cookie__", password: "d11e0b80abc"))
        #expect(cookie?.authorizationHeader == "Basic X19jb29raWVfXzpkMTFlMGI4MGFiYw==")
        #expect(RPCCredentials.parseCookie("nocolon") == nil)
        #expect(RPCCredentials.parseCookie(":x") == nil)
        #expect(RPCCredentials.parseCookie("") == nil)
    }

    @Test("A missing cookie file with no server behind it reports the connection failure")
    func missingCookieNoServer() async throws {
        let port = try PortAllocator.freePorts(1)[0]
        let client = RPCClient(port: port, authentication: .cookieFile("/nonexistent/.cookie"), defaultTimeout: .seconds(5))
        await #expect { try await client.call("getblockcount") } throws: { error in
            guard case .transport(let method, _, _)? = error as? RPCError else { return false }
            return method == "getblockcount"
        }
    }

    @Test("RPC to a port nobody listens on is a transport error")
    func refusedIsTransport() async throws {
        let port = try PortAllocator.freePorts(1)[0]
        let client = RPCClient(port: port, authentication: .credentials(RPCCredentials(user: "u", password: "p")))
        await #expect { try await client.getBlockCount() } throws: { error in
            guard case let .transport(_, endpoint, reason)? = error as? RPCError else { return false }
            return endpoint == "127.0.0.1:\(port)" && reason.contains("refused")
        }
    }

    @Test("RPC to a server that never answers is a timeout, distinct from transport failure, after the call's own bound or else the client's default")
    func silentServerTimesOut() async throws {
        let server = try SilentServer()
        defer { server.close() }
        let endpoint = "127.0.0.1:\(server.port)"
        let client = RPCClient(port: server.port, authentication: .credentials(RPCCredentials(user: "u", password: "p")),
                               defaultTimeout: .milliseconds(700))
        // The error names the bound that ran out, the very value the call's
        // deadline was set from: the call's own, then the client's default
        // (no wall time is measured: a loaded machine only makes it later).
        await #expect(throws: RPCError.timedOut(method: "getblockcount", endpoint: endpoint, seconds: 0.3)) {
            try await client.call("getblockcount", timeout: .milliseconds(300))
        }
        await #expect(throws: RPCError.timedOut(method: "getbestblockhash", endpoint: endpoint, seconds: 0.7)) {
            try await client.call("getbestblockhash")
        }
    }

    @Test("tapyrus.conf renders dev=1 and a [dev] section bound to loopback")
    func configRendering() {
        let config = NodeConfiguration(p2pPort: 40001, rpcPort: 40002, extraOptions: [("txindex", "1")])
        #expect(config.rendered() == """
            # Written by tapyrus-trace NodeControl for one test node.
            dev=1

            [dev]
            server=1
            listen=1
            bind=127.0.0.1
            port=40001
            rpcbind=127.0.0.1
            rpcallowip=127.0.0.1
            rpcport=40002
            dnsseed=0
            discover=0
            listenonion=0
            upnp=0
            printtoconsole=0
            shrinkdebugfile=0
            keypool=1
            txindex=1

            """)
        #expect(NodeConfiguration(p2pPort: 1, rpcPort: 2, networkID: 5).rendered().contains("networkid=5\n"))
        let overridden = NodeConfiguration(p2pPort: 1, rpcPort: 2, extraOptions: [("keypool", "100")]).rendered()
        #expect(overridden.contains("keypool=100\n") && !overridden.contains("keypool=1\n"))
        #expect(DevNetwork.dataDirectoryName() == "dev-1905960821")
    }

    @Test("Free ports are distinct and never handed out twice")
    func freePorts() throws {
        let first = try PortAllocator.freePorts(4)
        let second = try PortAllocator.freePorts(4)
        #expect(Set(first + second).count == 8)
        #expect(!first.contains(0))
    }

    @Test("TAPYRUSD naming a missing file is an error naming that path")
    func missingBinary() {
        #expect { try TapyrusBinaries.locate(environment: ["TAPYRUSD": "/nonexistent/tapyrusd"]) } throws: { error in
            guard let error = error as? BinaryLookupError else { return false }
            return error.problem == .missing && error.searched == ["/nonexistent/tapyrusd"]
                && error.description.contains("TAPYRUSD")
        }
    }

    @Test("An empty PATH search lists the directories looked in")
    func missingOnPath() {
        #expect { try TapyrusBinaries.locate(environment: ["PATH": "/nonexistent-a:/nonexistent-b"]) } throws: { error in
            guard let error = error as? BinaryLookupError else { return false }
            return error.searched == ["/nonexistent-a/tapyrusd", "/nonexistent-b/tapyrusd"]
        }
    }

    @Test("A non-executable tapyrusd is reported as such")
    func notExecutable() throws {
        let path = NSTemporaryDirectory() + "tapyrusd-not-executable-\(UInt32.random(in: 0...UInt32.max))"
        try "x".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try TapyrusBinaries.locate(environment: ["TAPYRUSD": path]) } throws: { error in
            (error as? BinaryLookupError)?.problem == .notExecutable
        }
    }

    @Test("Starting a node with a tapyrusd path that does not exist fails before making a datadir")
    func startWithMissingBinary() async {
        let binaries = TapyrusBinaries(tapyrusd: "/nonexistent/tapyrusd", tapyrusGenesis: "/nonexistent/tapyrus-genesis")
        await #expect { try await TapyrusNode.start(options: NodeOptions(name: "nobinary"), binaries: binaries) } throws: { error in
            guard let error = error as? BinaryLookupError else { return false }
            return error.problem == .missing && error.searched == ["/nonexistent/tapyrusd"]
        }
    }

    @Test("A program that is not tapyrusd fails the identity check")
    func wrongProgram() async {
        let binaries = TapyrusBinaries(tapyrusd: "/bin/echo", tapyrusGenesis: "/bin/echo")
        await #expect { try await binaries.verifyIdentity() } throws: { error in
            guard case .notTapyrus? = (error as? BinaryLookupError)?.problem else { return false }
            return true
        }
        #expect(throws: BinaryLookupError.self) { try binaries.require { _ in "no USDT notes" } }
    }
}

/// A TCP server that accepts connections (via the backlog) but never reads or answers.
final class SilentServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 8)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
