import Foundation
import Testing
import TraceHarness
import TraceTools

@Suite("P2P monitor: traffic and screen")
struct P2PMonitorScreenTests {
    static func traffic() -> P2PTraffic {
        var traffic = P2PTraffic(historyLimit: 50)
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        traffic.record(.inbound, pid: 700, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "sendcmpct", size: 9, date: date)
        traffic.record(.outbound, pid: 700, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "inv", size: 37, date: date)
        traffic.record(.inbound, pid: 700, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "ping", size: 8, date: date)
        traffic.record(.outbound, pid: 700, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "pong", size: 8, date: date)
        traffic.record(.inbound, pid: 700, peerID: 3, address: "127.0.0.1:60380", connectionType: "In------", type: "version", size: 102, date: date)
        return traffic
    }

    @Test("peers are aggregated per id with counts and bytes each way")
    func aggregation() {
        let peers = Self.traffic().peers
        #expect(peers.map(\.id) == [3, 16])
        #expect(peers[1].outboundCount == 2 && peers[1].outboundBytes == 45)
        #expect(peers[1].inboundCount == 2 && peers[1].inboundBytes == 17)
        #expect(peers[1].messages.map(\.type) == ["sendcmpct", "inv", "ping", "pong"])
        #expect(peers[0].inboundBytes == 102 && peers[0].outboundCount == 0)
    }

    @Test("the history per peer is bounded, the totals are not")
    func boundedHistory() {
        var traffic = P2PTraffic(historyLimit: 3)
        for index in 0..<10 {
            traffic.record(.outbound, pid: 700, peerID: 1, address: "a:1", connectionType: "In", type: "m\(index)", size: 1)
        }
        #expect(traffic.peers[0].messages.map(\.type) == ["m7", "m8", "m9"])
        #expect(traffic.peers[0].outboundCount == 10)
    }

    @Test("the peer list has the seed's columns, every line exactly the width, and the selection highlighted")
    func peerList() {
        var screen = P2PMonitorScreen()
        let frame = screen.render(Self.traffic(), width: 125, height: 12)
        #expect(frame.lines.count == 12)
        #expect(frame.lines.allSatisfy { $0.count == 125 })
        #expect(frame.lines[0].hasPrefix(" P2P Message Monitor"))
        #expect(frame.lines[3].hasPrefix("  PID             PEER  OUTBOUND               INBOUND                TYPE                   ADDR"))
        #expect(frame.lines[5].hasPrefix("> 700                3  0              0 byte  1            102 byte  In------               127.0.0.1:60380"))
        #expect(frame.lines[6].hasPrefix("  700               16  2             45 byte  2             17 byte  Out-----M-Tx           4faketorv2pbfu7x.onion:8333"))
        #expect(frame.highlighted == 5)
        #expect(frame.lines[11].hasPrefix(" 1 node, 2 peers"))
        #expect(screen.render(P2PTraffic(), width: 80, height: 10).lines[9].hasPrefix(" 0 nodes, 0 peers"))
    }

    @Test("DOWN/UP move the selection within bounds; ENTER opens the flow; q goes back, then quits")
    func navigation() {
        let peers = Self.traffic().peers
        var screen = P2PMonitorScreen()
        #expect(screen.handle(.up, peers: peers) == .redraw)
        #expect(screen.selectedPeer == P2PTraffic.PeerKey(pid: 700, id: 3))
        _ = screen.handle(.down, peers: peers)
        _ = screen.handle(.down, peers: peers)
        #expect(screen.selectedPeer == P2PTraffic.PeerKey(pid: 700, id: 16))
        #expect(screen.handle(.enter, peers: peers) == .redraw)
        #expect(screen.mode == .flow(P2PTraffic.PeerKey(pid: 700, id: 16)))
        #expect(screen.handle(.escape, peers: peers) == .redraw)
        #expect(screen.mode == .peers)
        #expect(screen.handle(.space, peers: peers) == .redraw)
        #expect(screen.handle(.quit, peers: peers) == .redraw)
        #expect(screen.handle(.quit, peers: peers) == .quit)
        #expect(screen.handle(.interrupt, peers: peers) == .quit)
    }

    @Test("the selection follows its peer when a new peer appears before it")
    func selectionKeptByID() {
        var traffic = Self.traffic()
        var screen = P2PMonitorScreen()
        _ = screen.handle(.down, peers: traffic.peers)
        _ = screen.handle(.down, peers: traffic.peers)
        traffic.record(.inbound, pid: 700, peerID: 5, address: "127.0.0.1:1", connectionType: "In", type: "version", size: 1)
        let frame = screen.render(traffic, width: 100, height: 12)
        #expect(frame.highlighted.map { frame.lines[$0].hasPrefix("> 700               16") } == true)
    }

    @Test("the flow draws ours left and the peer's right in a box with the peer's header")
    func flow() {
        var screen = P2PMonitorScreen()
        let traffic = Self.traffic()
        _ = screen.handle(.down, peers: traffic.peers)
        _ = screen.handle(.enter, peers: traffic.peers)
        let frame = screen.render(traffic, width: 74, height: 12)
        #expect(frame.lines.allSatisfy { $0.count == 74 })
        let expected = [
            "  ----------------------------------------------------------------------",
            "  |          NODE 700 · PEER 16 (4faketorv2pbfu7x.onion:8333)          |",
            "  | OUR NODE                     Out-----M-Tx                     PEER |",
            "  |                                           <--- sendcmpct (9 bytes) |",
            "  | inv (37 byte) --->                                                 |",
            "  |                                                <--- ping (8 bytes) |",
            "  | pong (8 byte) --->                                                 |",
            "  ----------------------------------------------------------------------",
        ]
        #expect(Array(frame.lines.prefix(8)) == expected.map { ScreenText.fit($0, 74) })
        #expect(frame.lines[11].hasPrefix(" q/ESC back"))
    }

    @Test("a flow longer than the screen shows the newest messages and how many earlier ones are hidden")
    func longFlow() {
        var traffic = P2PTraffic()
        for index in 0..<30 {
            traffic.record(.outbound, pid: 700, peerID: 1, address: "127.0.0.1:1", connectionType: "In", type: "m\(index)", size: 1)
        }
        var screen = P2PMonitorScreen()
        _ = screen.handle(.enter, peers: traffic.peers)
        let frame = screen.render(traffic, width: 80, height: 12)
        #expect(frame.lines.count == 12)
        #expect(frame.lines[3].contains("… 24 earlier"))
        #expect(frame.lines[9].contains("m29 (1 byte) --->"))
    }

    @Test("a terminal below 60x10 gets one 'terminal too small' line, and a full screen again when enlarged")
    func tooSmall() {
        var screen = P2PMonitorScreen()
        let small = screen.render(Self.traffic(), width: 59, height: 30)
        #expect(small.lines.count == 1)
        #expect(small.lines[0].hasPrefix("terminal too small (59x30, need 60x10)"))
        #expect(small.lines[0].count == 59)
        #expect(screen.render(Self.traffic(), width: 80, height: 9).lines.count == 1)
        #expect(screen.render(Self.traffic(), width: 60, height: 10).lines.count == 10)
    }

    @Test("a long peer list scrolls to keep the selection visible")
    func scrolling() {
        var traffic = P2PTraffic()
        for id in 0..<20 { traffic.record(.inbound, pid: 700, peerID: Int64(id), address: "127.0.0.1:\(id)", connectionType: "In", type: "ping", size: 8) }
        var screen = P2PMonitorScreen()
        for _ in 0..<15 { _ = screen.handle(.down, peers: traffic.peers) }
        let frame = screen.render(traffic, width: 90, height: 12)
        let highlighted = try? #require(frame.highlighted)
        #expect(highlighted.map { frame.lines[$0].hasPrefix("> 700               15") } == true)
        #expect(frame.lines[11].contains("rows 11-16 of 20"))
    }
}

@Suite("Mempool monitor: totals and screen")
struct MempoolMonitorScreenTests {
    @Test("totals sum counts, fees and sizes per kind, with reasons; the screen lists the recent events")
    func totalsAndScreen() {
        var activity = MempoolActivity(recentLimit: 10)
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let txid = String(repeating: "ab", count: 32)
        activity.record(.init(kind: .added, pid: 700, date: date, txid: txid, size: 225, fee: 4500))
        activity.record(.init(kind: .added, pid: 700, date: date, txid: txid, size: 300, fee: 6000))
        activity.record(.init(kind: .removed, pid: 700, date: date, txid: txid, size: 225, fee: 4500, detail: "block"))
        activity.record(.init(kind: .rejected, pid: 700, date: date, txid: txid, size: nil, fee: nil, detail: "insufficient fee"))
        #expect(activity.totals(.added) == .init(count: 2, fees: 10500, bytes: 525))
        #expect(activity.totals(.removed).reasons == ["block": 1])
        let frame = activity.render(width: 130, height: 16)
        #expect(frame.lines.count == 16 && frame.lines.allSatisfy { $0.count == 130 })
        #expect(frame.lines[2].hasPrefix(" PID            EVENT        COUNT    FEES (units)  SIZE (bytes)  REASONS"))
        #expect(frame.lines[3].hasPrefix(" 700            added            2           10500           525"))
        #expect(frame.lines[4].hasPrefix(" 700            removed          1            4500           225  block 1"))
        #expect(frame.lines[5].hasPrefix(" 700            replaced         0               0             0"))
        #expect(frame.lines[6].hasPrefix(" 700            rejected         1               -             -  insufficient fee 1"))
        #expect(frame.lines[9].contains("  700     added    \(txid)  225 B  fee 4500"))
        #expect(frame.lines[12].contains("  700     rejected \(txid)  insufficient fee"))
        #expect(frame.lines[15].hasPrefix(" 1 node · q/ESC quit"))
        #expect(activity.render(width: 50, height: 20).lines == [ScreenText.tooSmall(width: 50, height: 20, minimum: MempoolActivity.minimumSize)])
    }

    @Test("recent events are bounded and the newest fill the screen")
    func recentBounded() {
        var activity = MempoolActivity(recentLimit: 5)
        for index in 0..<8 {
            activity.record(.init(kind: .added, pid: 700, date: Date(), txid: "tx\(index)", size: 1, fee: 1))
        }
        #expect(activity.recent.map(\.txid) == ["tx3", "tx4", "tx5", "tx6", "tx7"])
        #expect(activity.totals(.added).count == 8)
        let frame = activity.render(width: 80, height: 12)
        #expect(frame.lines[9].contains("tx6") && frame.lines[10].contains("tx7"))
    }
}

@Suite("P2P monitor: two nodes of one binary")
struct P2PMonitorTwoNodesTests {
    /// Node 700 connected out to node 800 (peer 0 of each) and each with a
    /// raw peer of its own (peer 1 of each), with different traffic.
    static func traffic() -> P2PTraffic {
        var traffic = P2PTraffic()
        traffic.record(.outbound, pid: 700, peerID: 0, address: "127.0.0.1:18444", connectionType: "Out-----M-", type: "version", size: 106)
        traffic.record(.inbound, pid: 800, peerID: 0, address: "127.0.0.1:50100", connectionType: "In------", type: "version", size: 106)
        traffic.record(.outbound, pid: 800, peerID: 0, address: "127.0.0.1:50100", connectionType: "In------", type: "version", size: 106)
        traffic.record(.outbound, pid: 800, peerID: 0, address: "127.0.0.1:50100", connectionType: "In------", type: "verack", size: 0)
        traffic.record(.inbound, pid: 700, peerID: 0, address: "127.0.0.1:18444", connectionType: "Out-----M-", type: "version", size: 106)
        traffic.record(.inbound, pid: 800, peerID: 1, address: "127.0.0.1:50200", connectionType: "In------Tx", type: "ping", size: 8)
        traffic.record(.inbound, pid: 700, peerID: 1, address: "127.0.0.1:50300", connectionType: "In------Tx", type: "ping", size: 8)
        traffic.record(.inbound, pid: 700, peerID: 1, address: "127.0.0.1:50300", connectionType: "In------Tx", type: "ping", size: 8)
        return traffic
    }

    @Test("each node's peer 0 is a row of its own with its own counts; rows go node by node in the order the nodes appeared")
    func rowsPerNodeAndPeer() {
        let traffic = Self.traffic()
        #expect(traffic.peers.map(\.key) == [.init(pid: 700, id: 0), .init(pid: 700, id: 1), .init(pid: 800, id: 0), .init(pid: 800, id: 1)])
        let zeroOf700 = traffic.peersByKey[.init(pid: 700, id: 0)], zeroOf800 = traffic.peersByKey[.init(pid: 800, id: 0)]
        #expect(zeroOf700?.outboundCount == 1 && zeroOf700?.inboundCount == 1 && zeroOf700?.address == "127.0.0.1:18444")
        #expect(zeroOf800?.outboundCount == 2 && zeroOf800?.outboundBytes == 106 && zeroOf800?.inboundCount == 1)
        #expect(traffic.peersByKey[.init(pid: 700, id: 1)]?.inboundCount == 2)
        #expect(traffic.peersByKey[.init(pid: 800, id: 1)]?.inboundCount == 1)
        #expect(traffic.countsText == "2 nodes, 4 peers")
        #expect(traffic.totalMessages == 8)
    }

    @Test("the list has a PID column; the footer counts nodes and peers")
    func list() {
        var screen = P2PMonitorScreen()
        let frame = screen.render(Self.traffic(), width: 120, height: 14)
        #expect(frame.lines[5].hasPrefix("> 700                0  1            106 byte  1            106 byte  Out-----M-             127.0.0.1:18444"))
        #expect(frame.lines[6].hasPrefix("  700                1  0              0 byte  2             16 byte  In------Tx             127.0.0.1:50300"))
        #expect(frame.lines[7].hasPrefix("  800                0  2            106 byte  1            106 byte  In------               127.0.0.1:50100"))
        #expect(frame.lines[8].hasPrefix("  800                1  0              0 byte  1              8 byte  In------Tx             127.0.0.1:50200"))
        #expect(frame.lines[13].hasPrefix(" 2 nodes, 4 peers · q/ESC quit"))
    }

    @Test("ENTER opens the selected node's conversation with that peer only")
    func flowOfOneNode() {
        let traffic = Self.traffic()
        var screen = P2PMonitorScreen()
        _ = screen.handle(.down, peers: traffic.peers)
        _ = screen.handle(.down, peers: traffic.peers)
        _ = screen.handle(.enter, peers: traffic.peers)
        #expect(screen.mode == .flow(.init(pid: 800, id: 0)))
        let frame = screen.render(traffic, width: 80, height: 12)
        #expect(frame.lines[1].contains("NODE 800 · PEER 0 (127.0.0.1:50100)"))
        let flow = frame.lines.filter { $0.contains("--->") || $0.contains("<---") }
        #expect(flow.count == 3, "node 800's three messages with its peer 0, none of node 700's: \(flow)")
        #expect(flow.map { $0.contains("<--- version (106 bytes) |") } == [true, false, false])
        #expect(flow.map { $0.contains("| version (106 byte) --->") } == [false, true, false])
        #expect(flow.map { $0.contains("| verack (0 byte) --->") } == [false, false, true])
    }

    @Test("a node that exits is marked on its rows, in the footer and in its flow; its restart (a new pid) is a node of its own")
    func exitAndRestart() {
        var traffic = Self.traffic()
        traffic.processExited(800)
        traffic.processExited(999)
        #expect(traffic.node(800)?.exited == true && traffic.node(700)?.exited == false && traffic.node(999) == nil)
        traffic.record(.inbound, pid: 801, peerID: 0, address: "127.0.0.1:50400", connectionType: "In------", type: "version", size: 106)
        #expect(traffic.countsText == "3 nodes (1 exited), 5 peers")
        var screen = P2PMonitorScreen()
        let frame = screen.render(traffic, width: 120, height: 14)
        #expect(frame.lines[7].hasPrefix("  800 exited         0  2"))
        #expect(frame.lines[8].hasPrefix("  800 exited         1  0"))
        #expect(frame.lines[9].hasPrefix("  801                0  0              0 byte  1            106 byte"))
        for _ in 0..<2 { _ = screen.handle(.down, peers: traffic.peers) }
        _ = screen.handle(.enter, peers: traffic.peers)
        #expect(screen.render(traffic, width: 80, height: 12).lines[1].contains("NODE 800 (exited) · PEER 0 (127.0.0.1:50100)"))
    }

    @Test("the selection stays on its (node, peer) row when rows appear above it")
    func selectionKeptByKey() {
        var traffic = Self.traffic()
        var screen = P2PMonitorScreen()
        for _ in 0..<3 { _ = screen.handle(.down, peers: traffic.peers) }
        #expect(screen.selectedPeer == .init(pid: 800, id: 1))
        traffic.record(.inbound, pid: 700, peerID: 2, address: "127.0.0.1:1", connectionType: "In", type: "version", size: 1)
        let frame = screen.render(traffic, width: 120, height: 14)
        #expect(frame.highlighted == 9)
        #expect(frame.highlighted.map { frame.lines[$0].hasPrefix("> 800                1") } == true)
    }

    @Test("--json records carry the pid of the node that sent or received the message")
    func jsonCarriesPID() throws {
        let event = ToolEvents.message(true, type: "ping", bytes: Array(repeating: 0, count: 8), pid: 4321)
        let record = try #require(P2PMonitorRecord(event))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any])
        #expect(object["pid"] as? Int == 4321)
        #expect(object["peer_id"] as? Int == 11)
    }
}

@Suite("Mempool monitor: two nodes of one binary")
struct MempoolMonitorTwoNodesTests {
    static func activity() -> MempoolActivity {
        var activity = MempoolActivity(recentLimit: 10)
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let a = String(repeating: "aa", count: 32), b = String(repeating: "bb", count: 32)
        activity.record(.init(kind: .added, pid: 700, date: date, txid: a, size: 225, fee: 4500))
        activity.record(.init(kind: .added, pid: 800, date: date, txid: a, size: 225, fee: 4500))
        activity.record(.init(kind: .added, pid: 800, date: date, txid: b, size: 300, fee: 6000))
        activity.record(.init(kind: .removed, pid: 700, date: date, txid: a, size: 225, fee: 4500, detail: "block"))
        activity.record(.init(kind: .rejected, pid: 800, date: date, txid: b, size: nil, fee: nil, detail: "insufficient fee"))
        return activity
    }

    @Test("totals are kept per node and over all")
    func totals() {
        let activity = Self.activity()
        #expect(activity.nodes.map(\.pid) == [700, 800])
        #expect(activity.node(700)?.totals(.added) == .init(count: 1, fees: 4500, bytes: 225))
        #expect(activity.node(800)?.totals(.added) == .init(count: 2, fees: 10500, bytes: 525))
        #expect(activity.node(700)?.totals(.removed).reasons == ["block": 1])
        #expect(activity.node(800)?.totals(.removed).count == 0)
        #expect(activity.totals(.added) == .init(count: 3, fees: 15000, bytes: 750))
        #expect(activity.totals(.rejected).reasons == ["insufficient fee": 1])
    }

    @Test("the screen shows each node's totals, then all, and the recent events with their node")
    func screen() {
        var activity = Self.activity()
        activity.processExited(800)
        let frame = activity.render(width: 130, height: 26)
        #expect(frame.lines.count == 26 && frame.lines.allSatisfy { $0.count == 130 })
        #expect(frame.lines[3].hasPrefix(" 700            added            1            4500           225"))
        #expect(frame.lines[4].hasPrefix(" 700            removed          1            4500           225  block 1"))
        #expect(frame.lines[7].hasPrefix(" 800 exited     added            2           10500           525"))
        #expect(frame.lines[10].hasPrefix(" 800 exited     rejected         1               -             -  insufficient fee 1"))
        #expect(frame.lines[11].hasPrefix(" all            added            3           15000           750"))
        #expect(frame.lines[14].hasPrefix(" all            rejected         1"))
        #expect(frame.lines[16] == ScreenText.fit(" RECENT EVENTS", 130))
        #expect(frame.lines[17].contains("  700     added    \(String(repeating: "aa", count: 32))  225 B  fee 4500"))
        #expect(frame.lines[18].contains("  800     added    \(String(repeating: "aa", count: 32))"))
        #expect(frame.lines[21].contains("  800     rejected \(String(repeating: "bb", count: 32))  insufficient fee"))
        #expect(frame.lines[25].hasPrefix(" 2 nodes · q/ESC quit"))
    }

    @Test("a screen too short for every total keeps its footer")
    func footerKept() {
        let frame = Self.activity().render(width: 100, height: 10)
        #expect(frame.lines.count == 10)
        #expect(frame.lines[9].hasPrefix(" 2 nodes · "))
    }

    @Test("the summary gives each node's totals, then all processes'; one node's alone")
    func summary() {
        #expect(Self.activity().summaryLines == [
            "  process 700 added: 1 transactions, fees 4500, 225 bytes",
            "  process 700 removed: 1 transactions, fees 4500, 225 bytes",
            "  process 700 replaced: 0 transactions, fees 0, 0 bytes",
            "  process 700 rejected: 0 transactions, fees 0, 0 bytes",
            "  process 800 added: 2 transactions, fees 10500, 525 bytes",
            "  process 800 removed: 0 transactions, fees 0, 0 bytes",
            "  process 800 replaced: 0 transactions, fees 0, 0 bytes",
            "  process 800 rejected: 1 transactions, fees 0, 0 bytes",
            "  all processes added: 3 transactions, fees 15000, 750 bytes",
            "  all processes removed: 1 transactions, fees 4500, 225 bytes",
            "  all processes replaced: 0 transactions, fees 0, 0 bytes",
            "  all processes rejected: 1 transactions, fees 0, 0 bytes",
        ])
        var one = MempoolActivity()
        one.record(.init(kind: .added, pid: 9, date: Date(), txid: "t", size: 1, fee: 2))
        #expect(one.summaryLines.count == 4)
        #expect(one.summaryLines.first == "  process 9 added: 1 transactions, fees 2, 1 bytes")
    }
}
