import Foundation
import NodeControl

extension ScenarioCatalog {
    static let mempool: [any Scenario] = []
}
