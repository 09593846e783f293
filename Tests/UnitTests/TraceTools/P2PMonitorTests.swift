import Foundation
import Testing
import TraceHarness
import TraceTools

@Suite("P2P monitor: traffic and screen")
struct P2PMonitorScreenTests {
    static func traffic() -> P2PTraffic {
        var traffic = P2PTraffic(historyLimit: 50)
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        traffic.record(.inbound, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "sendcmpct", size: 9, date: date)
        traffic.record(.outbound, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "inv", size: 37, date: date)
        traffic.record(.inbound, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "ping", size: 8, date: date)
        traffic.record(.outbound, peerID: 16, address: "4faketorv2pbfu7x.onion:8333", connectionType: "Out-----M-Tx", type: "pong", size: 8, date: date)
        traffic.record(.inbound, peerID: 3, address: "127.0.0.1:60380", connectionType: "In------", type: "version", size: 102, date: date)
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
            traffic.record(.outbound, peerID: 1, address: "a:1", connectionType: "In", type: "m\(index)", size: 1)
        }
        #expect(traffic.peers[0].messages.map(\.type) == ["m7", "m8", "m9"])
        #expect(traffic.peers[0].outboundCount == 10)
    }

    @Test("the peer list has the seed's columns, every line exactly the width, and the selection highlighted")
    func peerList() {
        var screen = P2PMonitorScreen()
        let frame = screen.render(Self.traffic(), width: 110, height: 12)
        #expect(frame.lines.count == 12)
        #expect(frame.lines.allSatisfy { $0.count == 110 })
        #expect(frame.lines[0].hasPrefix(" P2P Message Monitor"))
        #expect(frame.lines[3].hasPrefix("  PEER  OUTBOUND               INBOUND                TYPE                   ADDR"))
        #expect(frame.lines[5].hasPrefix(">    3  0              0 byte  1            102 byte  In------               127.0.0.1:60380"))
        #expect(frame.lines[6].hasPrefix("    16  2             45 byte  2             17 byte  Out-----M-Tx           4faketorv2pbfu7x.onion:8333"))
        #expect(frame.highlighted == 5)
        #expect(frame.lines[11].hasPrefix(" 2 peers"))
        #expect(screen.render(P2PTraffic(), width: 80, height: 10).lines[9].hasPrefix(" 0 peers"))
    }

    @Test("DOWN/UP move the selection within bounds; ENTER opens the flow; q goes back, then quits")
    func navigation() {
        let peers = Self.traffic().peers
        var screen = P2PMonitorScreen()
        #expect(screen.handle(.up, peers: peers) == .redraw)
        #expect(screen.selectedPeerID == 3)
        _ = screen.handle(.down, peers: peers)
        _ = screen.handle(.down, peers: peers)
        #expect(screen.selectedPeerID == 16)
        #expect(screen.handle(.enter, peers: peers) == .redraw)
        #expect(screen.mode == .flow(peerID: 16))
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
        traffic.record(.inbound, peerID: 5, address: "127.0.0.1:1", connectionType: "In", type: "version", size: 1)
        let frame = screen.render(traffic, width: 100, height: 12)
        #expect(frame.highlighted.map { frame.lines[$0].hasPrefix(">   16") } == true)
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
            "  |               PEER 16 (4faketorv2pbfu7x.onion:8333)                |",
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
            traffic.record(.outbound, peerID: 1, address: "127.0.0.1:1", connectionType: "In", type: "m\(index)", size: 1)
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
        for id in 0..<20 { traffic.record(.inbound, peerID: Int64(id), address: "127.0.0.1:\(id)", connectionType: "In", type: "ping", size: 8) }
        var screen = P2PMonitorScreen()
        for _ in 0..<15 { _ = screen.handle(.down, peers: traffic.peers) }
        let frame = screen.render(traffic, width: 90, height: 12)
        let highlighted = try? #require(frame.highlighted)
        #expect(highlighted.map { frame.lines[$0].hasPrefix(">   15") } == true)
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
        activity.record(.init(kind: .added, date: date, txid: txid, size: 225, fee: 4500))
        activity.record(.init(kind: .added, date: date, txid: txid, size: 300, fee: 6000))
        activity.record(.init(kind: .removed, date: date, txid: txid, size: 225, fee: 4500, detail: "block"))
        activity.record(.init(kind: .rejected, date: date, txid: txid, size: nil, fee: nil, detail: "insufficient fee"))
        #expect(activity.totals(.added) == .init(count: 2, fees: 10500, bytes: 525))
        #expect(activity.totals(.removed).reasons == ["block": 1])
        let frame = activity.render(width: 130, height: 16)
        #expect(frame.lines.count == 16 && frame.lines.allSatisfy { $0.count == 130 })
        #expect(frame.lines[3].hasPrefix(" added            2           10500           525"))
        #expect(frame.lines[4].hasPrefix(" removed          1            4500           225  block 1"))
        #expect(frame.lines[5].hasPrefix(" replaced         0               0             0"))
        #expect(frame.lines[6].hasPrefix(" rejected         1               -             -  insufficient fee 1"))
        #expect(frame.lines[9].contains("added    \(txid)  225 B  fee 4500"))
        #expect(frame.lines[12].contains("rejected \(txid)  insufficient fee"))
        #expect(activity.render(width: 50, height: 20).lines == [ScreenText.tooSmall(width: 50, height: 20, minimum: MempoolActivity.minimumSize)])
    }

    @Test("recent events are bounded and the newest fill the screen")
    func recentBounded() {
        var activity = MempoolActivity(recentLimit: 5)
        for index in 0..<8 {
            activity.record(.init(kind: .added, date: Date(), txid: "tx\(index)", size: 1, fee: 1))
        }
        #expect(activity.recent.map(\.txid) == ["tx3", "tx4", "tx5", "tx6", "tx7"])
        #expect(activity.totals(.added).count == 8)
        let frame = activity.render(width: 80, height: 12)
        #expect(frame.lines[9].contains("tx6") && frame.lines[10].contains("tx7"))
    }
}
