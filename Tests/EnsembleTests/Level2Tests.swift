import Datasets
import XCTest
@testable import Ensemble

final class Level2Tests: XCTestCase {
    func testEveryMethodHasOneSubjectThatNamesItBack() {
        XCTAssertEqual(Level2Method.allCases.map(\.subject),
                       ["blend/mean", "blend/rank", "blend/weights", "blend/hillclimb", "stack/logistic", "stack/mlp", "stack/xgboost"])
        for method in Level2Method.allCases {
            XCTAssertEqual(Level2Method(subject: method.subject), method)
            XCTAssertEqual(Level2Method(rawValue: method.rawValue), method)
        }
        XCTAssertNil(Level2Method(subject: "hillclimb"))
        XCTAssertNil(Level2Method(subject: "stack/forest"))
        XCTAssertNil(Level2Method(rawValue: "forest"))
    }

    func testKindsFittingAndProbabilities() {
        XCTAssertEqual(Level2Method.allCases.filter { $0.kind == .blend }, [.mean, .rank, .weights, .hillclimb])
        XCTAssertEqual(Level2Method.allCases.filter(\.isFitted), [.weights, .hillclimb, .logistic, .mlp, .xgboost])
        XCTAssertEqual(Level2Method.allCases.filter { !$0.givesProbabilities }, [.rank])
        XCTAssertLessThan(Level2Method.Kind.blend, .stacker)
        XCTAssertEqual(Level2Method.allCases.sorted { $0.kind > $1.kind }.first?.kind, .stacker)
    }

    func testRunGivesOneResultPerMethodInTheOrderAsked() throws {
        let inputs = try StackFixture.inputs()
        let methods: [Level2Method] = [.logistic, .rank, .hillclimb, .mean]
        let results = try Level2.run(inputs, metric: .accuracy, methods: methods)
        XCTAssertEqual(results.map(\.method), methods)
        XCTAssertEqual(results.map(\.name), methods.map(\.subject))
        XCTAssertEqual(results.map { $0.inSampleScore != nil }, [false, false, true, false])
        for result in results {
            XCTAssertEqual(result.score, Metric.accuracy.score(probabilities: result.oof, classes: 4, labels: inputs.labels),
                           accuracy: 1e-12, result.name)
        }
    }

    func testAFitPredictsAnyRowsOfTheSameSets() throws {
        let inputs = try StackFixture.inputs()
        let fitted = try Level2.fit(.logistic, inputs, rows: Array(0..<300), metric: .logLoss)
        XCTAssertEqual(fitted.method, .logistic)
        XCTAssertNil(fitted.weights)
        let rows = [400, 3, 499]
        let predicted = try fitted.predict(inputs.sets.map { NestedStacking.gather($0.oof, rows: rows, width: 4) })
        XCTAssertEqual(predicted.count, 12)
        let all = try fitted.predict(inputs.sets.map(\.oof))
        for (position, row) in rows.enumerated() {
            XCTAssertEqual(Array(predicted[(position * 4)..<(position * 4 + 4)]), Array(all[(row * 4)..<(row * 4 + 4)]))
        }
        XCTAssertEqual(try fitted.predict(inputs.sets.map { _ in [] }), [])
        let blend = try Level2.fit(.hillclimb, inputs, rows: Array(0..<300), metric: .accuracy)
        XCTAssertEqual(try XCTUnwrap(blend.weights).reduce(0, +), 1, accuracy: 1e-12)
    }

    func testMisfitsAreErrorsThatSayWhatToPass() throws {
        let inputs = try StackFixture.inputs()
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return String(describing: error) }
        }
        XCTAssertTrue(message { try Level2.fit(.mean, inputs, rows: [], metric: .accuracy) }.contains("no rows"))
        XCTAssertTrue(message { try Level2.fit(.weights, inputs, rows: [0, 500], metric: .accuracy) }.contains("row 500"))
        let fitted = try Level2.fit(.mean, inputs, rows: [0, 1], metric: .accuracy)
        XCTAssertTrue(message { try fitted.predict([[0.5, 0.5, 0, 0]]) }.contains("fitted on 3 sets but given 1"))
        XCTAssertTrue(message { try fitted.predict([[0.5, 0.5, 0], [0.5, 0.5, 0], [0.5, 0.5, 0]]) }.contains("whole rows of 4"))
        XCTAssertTrue(message { try fitted.predict([[1, 0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0], [1, 0, 0, 0]]) }.contains("set 1 holds 8"))
    }
}
