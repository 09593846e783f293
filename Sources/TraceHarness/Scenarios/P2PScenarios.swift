import Foundation
import NodeControl

extension ScenarioCatalog {
    static let p2p: [any Scenario] = []
}
