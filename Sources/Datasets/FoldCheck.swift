import Foundation

/// Whether the training rows can be split into `folds` folds that each hold
/// validation rows: at least one row per fold, one group per fold for group
/// k-fold, and for stratified folds one row of every class per fold (a class
/// missing from a fold's validation rows makes that fold's score meaningless).
public enum FoldCheck {
    public static func check(folds: Int, labels: [Int], classNames: [String], groups: [String]?,
                             stratify: Bool, file: URL) throws {
        func refuse(_ message: String, _ fix: String) -> DatasetError {
            DatasetError(file: file.path, message: message, fix: fix)
        }
        guard folds <= labels.count else {
            throw refuse("`cv.folds` is \(folds) but there are only \(labels.count) training rows; every fold needs validation rows",
                         "set cv.folds to at most \(labels.count) (5 is usual), or add training rows")
        }
        if let groups {
            let count = Set(groups).count
            guard folds <= count else {
                throw refuse("group k-fold needs a group per fold: `cv.folds` is \(folds) but the group column has \(count) distinct groups",
                             "set cv.folds to at most \(count), or remove cv.group_column")
            }
            return
        }
        guard stratify else { return }
        var rows = [Int](repeating: 0, count: classNames.count)
        for label in labels { rows[label] += 1 }
        guard let smallest = rows.indices.min(by: { rows[$0] < rows[$1] }), rows[smallest] < folds else { return }
        let name = classNames[smallest]
        throw refuse("class '\(name)' has \(rows[smallest]) training row\(rows[smallest] == 1 ? "" : "s"), fewer than `cv.folds` (\(folds)): "
                     + "stratified folds would leave some folds without it",
                     "set cv.folds to at most \(rows[smallest]), add rows of class '\(name)', or set cv.stratify: false")
    }
}
