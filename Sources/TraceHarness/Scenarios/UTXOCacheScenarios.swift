import Foundation
import NodeControl

extension ScenarioCatalog {
    static let utxocache: [any Scenario] = []
}
