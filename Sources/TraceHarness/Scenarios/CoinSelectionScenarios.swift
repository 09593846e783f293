import Foundation
import NodeControl

extension ScenarioCatalog {
    static let coinSelection: [any Scenario] = []
}
