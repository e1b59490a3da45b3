import GRDB

/// The schema's history. Append-only: a released migration is never edited or
/// reordered (a test pins the identifiers); change the schema with a new one.
enum Migrations {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-experiments") { db in
            try db.create(table: "experiment") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("name", .text).notNull()
                table.column("manifestJSON", .text).notNull()
                table.column("manifestHash", .text).notNull().unique()
                table.column("dataFingerprint", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v1-tasks") { db in
            try db.create(table: "task") { table in
                table.primaryKey("id", .text)
                table.column("experimentID", .integer).notNull().indexed()
                    .references("experiment", onDelete: .cascade)
                table.column("stage", .text).notNull()
                table.column("model", .text).notNull()
                table.column("seed", .integer).notNull()
                table.column("fold", .integer).notNull()
                table.column("round", .integer).notNull()
                table.column("state", .text).notNull().indexed()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("updatedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v1-attempts") { db in
            try db.create(table: "attempt") { table in
                table.column("taskID", .text).notNull().references("task", onDelete: .cascade)
                table.column("attempt", .integer).notNull()
                table.column("workerID", .text).notNull()
                table.column("host", .text).notNull()
                table.column("startedAt", .datetime).notNull()
                table.column("finishedAt", .datetime)
                table.column("outcome", .text).notNull()
                table.column("message", .text)
                table.primaryKey(["taskID", "attempt"])
            }
        }
        migrator.registerMigration("v1-epoch-metrics") { db in
            try db.create(table: "epochMetric") { table in
                table.column("taskID", .text).notNull()
                table.column("attempt", .integer).notNull()
                table.column("epoch", .integer).notNull()
                table.column("trainLoss", .double).notNull()
                table.column("validationLoss", .double)
                table.column("validationScore", .double)
                table.column("learningRate", .double).notNull()
                table.column("seconds", .double).notNull()
                table.primaryKey(["taskID", "attempt", "epoch"])
                table.foreignKey(["taskID", "attempt"], references: "attempt", onDelete: .cascade)
            }
        }
        migrator.registerMigration("v1-prediction-sets") { db in
            try db.create(table: "predictionSet") { table in
                table.column("taskID", .text).notNull().references("task", onDelete: .cascade)
                table.column("name", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("shapeJSON", .text).notNull()
                table.column("encoding", .text).notNull()
                table.column("scalars", .blob).notNull()
                table.column("checksum", .integer).notNull()
                table.primaryKey(["taskID", "name", "kind"])
            }
        }
        migrator.registerMigration("v1-scores") { db in
            try db.create(table: "score") { table in
                table.column("experimentID", .integer).notNull().references("experiment", onDelete: .cascade)
                table.column("subject", .text).notNull()
                table.column("metric", .text).notNull()
                table.column("value", .double).notNull()
                table.primaryKey(["experimentID", "subject", "metric"])
            }
        }
        migrator.registerMigration("v2-validation-rows") { db in
            // Which train rows a task's OOF predictions belong to, as int64 so
            // the OOF matrix can be assembled from the database alone.
            try db.create(table: "validationRows") { table in
                table.primaryKey("taskID", .text).references("task", onDelete: .cascade)
                table.column("count", .integer).notNull()
                table.column("rows", .blob).notNull()
                table.column("checksum", .integer).notNull()
            }
        }
        migrator.registerMigration("v3-stage-outputs") { db in
            // What an ensemble stage decided besides its predictions (blend
            // weights, pseudo-label selections), as JSON, one row per output.
            try db.create(table: "stageOutput") { table in
                table.column("experimentID", .integer).notNull().references("experiment", onDelete: .cascade)
                table.column("stage", .text).notNull()
                table.column("name", .text).notNull()
                table.column("json", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.primaryKey(["experimentID", "stage", "name"])
            }
        }
        migrator.registerMigration("v4-result-predictions") { db in
            // The OOF and test predictions of results the coordinator computes
            // (blends, stackers), keyed by subject; they were fake tasks before.
            try db.create(table: "resultPrediction") { table in
                table.column("experimentID", .integer).notNull().references("experiment", onDelete: .cascade)
                table.column("subject", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("shapeJSON", .text).notNull()
                table.column("encoding", .text).notNull()
                table.column("scalars", .blob).notNull()
                table.column("checksum", .integer).notNull()
                table.primaryKey(["experimentID", "subject", "kind"])
            }
        }
        migrator.registerMigration("v5-coordinator-owner") { db in
            // The coordinator that holds the folder's lock (one row), for diagnostics.
            try db.create(table: "coordinatorOwner") { table in
                table.primaryKey("id", .integer)
                table.column("pid", .integer).notNull()
                table.column("host", .text).notNull()
                table.column("startedAt", .datetime).notNull()
            }
        }
        return migrator
    }
}
