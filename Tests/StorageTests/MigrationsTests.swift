import GRDB
import XCTest
@testable import Storage

final class MigrationsTests: XCTestCase {
    /// Released migrations are history: this list only ever grows at its end.
    func testMigrationIdentifiersAreAppendOnly() {
        XCTAssertEqual(ExperimentDatabase.migrationIdentifiers, [
            "v1-experiments", "v1-tasks", "v1-attempts", "v1-epoch-metrics", "v1-prediction-sets", "v1-scores",
            "v2-validation-rows", "v3-stage-outputs", "v4-result-predictions", "v5-coordinator-owner",
        ])
    }

    func testEveryMigrationIsAppliedAndCreatesItsTable() throws {
        try forEachDatabase { database, label in
            let (applied, tables) = try database.writer.read { db in
                (try Migrations.migrator().appliedMigrations(db),
                 try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
            }
            XCTAssertEqual(applied, ExperimentDatabase.migrationIdentifiers, label)
            for table in ["attempt", "coordinatorOwner", "epochMetric", "experiment", "predictionSet", "score", "task"] {
                XCTAssertTrue(tables.contains(table), "\(label): missing table \(table)")
            }
        }
    }

    func testForeignKeysAreEnforced() throws {
        try forEachDatabase { database, label in
            let orphan = TaskRecord(id: "orphan", experimentID: 999, stage: "train", model: "m",
                                    seed: 0, fold: 0, round: 0, updatedAt: testDate)
            XCTAssertThrowsError(try database.insertTasks([orphan]), label)
            XCTAssertNil(try database.task(id: "orphan"), label)
        }
    }
}
