/// The largest frame each side accepts (`ZMQ_MAXMSGSIZE`): a peer that
/// announces a bigger one is disconnected before a byte of it is buffered.
public enum FrameLimit {
    /// Room for headers, hellos, failure messages and progress: all small JSON.
    public static let headerBytes = 1 << 20

    /// A worker takes its coordinator's frames up to this size: the largest is
    /// a fine-tuning checkpoint shipped with the manifest, or a teacher's array.
    public static let worker = 1 << 30

    /// The coordinator's limit for data of `shape`: a result's largest frame is
    /// its validation-row indices (8 bytes a row) or one set's OOF or test array
    /// (4 bytes a value), twice that for slack, never below `headerBytes`.
    public static func coordinator(_ shape: DataShape) -> Int {
        let rows = shape.trainRows * 8
        let arrays = max(shape.trainRows, shape.testRows) * max(shape.classes, 1) * 4
        return 2 * max(rows, arrays) + headerBytes
    }
}
