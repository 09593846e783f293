/// A Tapyrus transaction in its wire form: features, inputs, outputs and lock
/// time, serialised and parsed the way tapyrusd reads and writes them.
///
/// The one transaction codec of the project: the benchmark's chain generator,
/// the regression suite's block fillers and its coin counts all use it.
///
/// For example, an unsigned transaction for `signrawtransactionwithwallet`:
///
/// ```swift
/// let transaction = Transaction(
///     inputs: [.init(spending: OutPoint(txid: txid, vout: 0))],
///     outputs: [.init(value: 49_9000_0000, script: [0x51])])
/// let hex = transaction.hex
/// ```
public struct Transaction: Sendable, Hashable {
    /// A coin spent: the outpoint, its unlocking script (empty until signed)
    /// and its sequence number.
    public struct Input: Sendable, Hashable {
        public var previousOutput: OutPoint
        public var script: [UInt8]
        public var sequence: UInt32

        /// An input spending `outpoint`, unsigned, with the final sequence number.
        public init(spending outpoint: OutPoint, script: [UInt8] = [], sequence: UInt32 = .max) {
            self.previousOutput = outpoint
            self.script = script
            self.sequence = sequence
        }
    }

    /// An output: a value (tapyrus units, or tokens for a coloured output)
    /// and its locking script.
    public struct Output: Sendable, Hashable {
        public var value: Int64
        public var script: [UInt8]

        public init(value: Int64, script: [UInt8]) {
            self.value = value
            self.script = script
        }

        /// The largest script a spendable output may have (`MAX_SCRIPT_SIZE`).
        public static let maximumScriptBytes = 10_000

        /// Whether no input can ever spend this output, so that it never
        /// enters the coins cache: an `OP_RETURN` script or one longer than
        /// ``maximumScriptBytes`` (`CScript::IsUnspendable`).
        public var isUnspendable: Bool {
            script.first == 0x6a || script.count > Self.maximumScriptBytes
        }
    }

    /// The transaction's features (version) field.
    public var features: Int32
    public var inputs: [Input]
    public var outputs: [Output]
    public var lockTime: UInt32

    /// A transaction of features 1 and lock time 0 unless told otherwise.
    public init(features: Int32 = 1, inputs: [Input], outputs: [Output], lockTime: UInt32 = 0) {
        self.features = features
        self.inputs = inputs
        self.outputs = outputs
        self.lockTime = lockTime
    }

    /// Parses a serialised transaction; the bytes must hold exactly one.
    public init(parsing bytes: [UInt8]) throws(ByteDecodingError) {
        var reader = ByteReader(bytes)
        features = try reader.read()
        let inputCount = try reader.readCompactSize()
        // Each input takes at least 41 bytes: never trust a count beyond what is left.
        guard inputCount <= UInt64(reader.remaining / 41) else {
            throw ByteDecodingError(offset: reader.offset, reason: "\(inputCount) inputs cannot fit in the \(reader.remaining) bytes left")
        }
        inputs = []
        for _ in 0..<inputCount {
            let txid = try reader.read(count: 32)
            let vout: UInt32 = try reader.read()
            let script = try reader.readVarBytes()
            let sequence: UInt32 = try reader.read()
            inputs.append(Input(spending: OutPoint(txid: Hex.encode(txid.reversed()), vout: Int(vout)), script: script, sequence: sequence))
        }
        let outputCount = try reader.readCompactSize()
        guard outputCount <= UInt64(reader.remaining / 9) else {
            throw ByteDecodingError(offset: reader.offset, reason: "\(outputCount) outputs cannot fit in the \(reader.remaining) bytes left")
        }
        outputs = []
        for _ in 0..<outputCount {
            let value: Int64 = try reader.read()
            outputs.append(Output(value: value, script: try reader.readVarBytes()))
        }
        lockTime = try reader.read()
        guard reader.remaining == 0 else {
            throw ByteDecodingError(offset: reader.offset, reason: "\(reader.remaining) bytes follow the transaction's lock time")
        }
    }

    /// Parses a transaction from hex (as `getrawtransaction` prints it).
    public init(hex: String) throws(ByteDecodingError) {
        guard let bytes = Hex.decode(hex) else { throw ByteDecodingError(offset: 0, reason: "not hex: \(hex.prefix(32))…") }
        try self.init(parsing: bytes)
    }

    /// The serialised transaction.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(littleEndian: features)
        writer.write(compactSize: UInt64(inputs.count))
        for input in inputs {
            writer.write(bytes: input.previousOutput.wireHash)
            writer.write(littleEndian: UInt32(truncatingIfNeeded: input.previousOutput.vout))
            writer.write(varBytes: input.script)
            writer.write(littleEndian: input.sequence)
        }
        writer.write(compactSize: UInt64(outputs.count))
        for output in outputs {
            writer.write(littleEndian: output.value)
            writer.write(varBytes: output.script)
        }
        writer.write(littleEndian: lockTime)
        return writer.bytes
    }

    /// ``serialized()`` as lowercase hex, for RPC.
    public var hex: String { Hex.encode(serialized()) }
}
