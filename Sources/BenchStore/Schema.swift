import GRDB

/// The database's versioned schema: migration `vN` makes schema version N.
enum Schema {
    /// The newest schema version this build knows.
    static var latestVersion: Int { migrator.migrations.count }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "builds") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sha256", .text).notNull().unique()
                t.column("version", .text).notNull()
                t.column("flags", .text)
                t.column("label", .text)
                t.column("created", .datetime).notNull()
            }
            try db.create(table: "machines") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("host", .text).notNull()
                t.column("cpu_model", .text).notNull()
                t.column("cores", .integer).notNull()
                t.column("kernel", .text).notNull()
                t.uniqueKey(["host", "cpu_model", "cores", "kernel"])
            }
            try db.create(table: "chains") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("generator_version", .text).notNull()
                t.column("parameters", .jsonText).notNull()
                t.column("block_count", .integer).notNull()
                t.uniqueKey(["name", "generator_version"])
            }
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("uid", .text).notNull().unique()
                t.column("build_id", .integer).notNull().indexed().references("builds")
                t.column("machine_id", .integer).notNull().indexed().references("machines")
                t.column("chain_id", .integer).notNull().indexed().references("chains")
                t.column("parameters", .jsonText).notNull()
                t.column("started", .datetime).notNull()
                t.column("wall_seconds", .double)
                t.column("status", .text).notNull()
                    .check(sql: "status IN ('running', 'complete', 'failed')")
                t.column("is_baseline", .boolean).notNull().defaults(to: false)
                t.column("notes", .text).notNull().defaults(to: "")
            }
            try db.create(table: "blocks") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("height", .integer).notNull()
                t.column("hash", .text).notNull()
                t.column("transactions", .integer).notNull()
                t.column("inputs", .integer).notNull()
                t.column("sigops", .integer).notNull()
                t.column("duration_micros", .integer).notNull()
                t.primaryKey(["run_id", "height"])
            }
        }
        return migrator
    }

    /// The schema version a migration identifier makes (`v3` → 3), if it is one of ours.
    static func version(of identifier: String) -> Int? {
        guard identifier.first == "v" else { return nil }
        return Int(identifier.dropFirst())
    }
}
