/// A typed event declared by one table: each argument of its tracepoint
/// bound to the property it is read into.
///
/// The table is the event's single source of truth: the ``Tracepoint`` (and
/// so the eBPF layout, the conformance check and the printers) and the
/// decoding in declaration order both follow from it, and the compiler checks
/// that each argument's property has the Swift type its reader returns.
///
/// ```swift
/// public struct FeeInfo: DeclaredEvent {
///     public static let declaration = EventDeclaration<Self>("coin_selection", "fee_info", "the fee of the wallet's transaction", [
///         .reading(.int64("fee_paid", note: "tapyrus units"), into: \.feePaid),
///         .reading(.int64("fee_needed", note: "tapyrus units"), into: \.feeNeeded),
///     ])
///     public var feePaid: Int64 = 0
///     public var feeNeeded: Int64 = 0
///     public init() {}
/// }
/// ```
public protocol DeclaredEvent: CataloguedEvent {
    /// The tracepoint's arguments in order, each with its property.
    static var declaration: EventDeclaration<Self> { get }
    /// An event with every property at its zero value, before reading.
    init()
}

extension DeclaredEvent {
    public static var tracepoint: Tracepoint { declaration.tracepoint }

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        self.init()
        try Self.declaration.read(&reader, into: &self)
    }
}

/// The declaration of a typed event: its tracepoint and, for each argument
/// in order, the property of `Event` it is read into.
public struct EventDeclaration<Event>: Sendable {
    public let tracepoint: Tracepoint
    let arguments: [EventArgument<Event>]

    public init(_ provider: String, _ name: String, _ summary: String, _ arguments: [EventArgument<Event>]) {
        self.tracepoint = Tracepoint(provider, name, summary, fields: arguments.map(\.field))
        self.arguments = arguments
    }

    /// The declaration of an event whose arguments are those of a part of
    /// it (the fields several tracepoints share), read into its property `part`.
    public init<Part>(_ provider: String, _ name: String, _ summary: String, _ arguments: [EventArgument<Part>],
                      into part: WritableKeyPath<Event, Part> & Sendable) {
        self.init(provider, name, summary, arguments.map { $0.reading(into: part) })
    }

    /// Reads every argument into its property of `event`, in declaration order.
    func read(_ reader: inout EventFieldReader, into event: inout Event) throws(EventDecodingError) {
        for argument in arguments { try argument.read(&reader, &event) }
    }
}

/// One argument of a typed event: its ``Field`` declaration and the property
/// of `Event` it is read into.
public struct EventArgument<Event>: Sendable {
    public let field: Field
    let read: @Sendable (inout EventFieldReader, inout Event) throws(EventDecodingError) -> Void

    /// The argument `field`, read into `property`.
    public static func reading<Value: EventFieldValue>(_ field: Field, into property: WritableKeyPath<Event, Value> & Sendable) -> Self {
        Self(field: field) { reader, event throws(EventDecodingError) in event[keyPath: property] = try Value(reading: &reader) }
    }

    /// This argument of a part of a larger event, read into the event's property `part`.
    func reading<Whole>(into part: WritableKeyPath<Whole, Event> & Sendable) -> EventArgument<Whole> {
        EventArgument<Whole>(field: field) { reader, whole throws(EventDecodingError) in try read(&reader, &whole[keyPath: part]) }
    }
}

/// A Swift type an argument is read into from the next slot of an
/// ``EventFieldReader``: an integer of any width (truncated from the slot's
/// 64 bits, as the tracepoint passed it), a `Bool`, a `String`, a
/// ``Hash256`` or a ``Payload``.
public protocol EventFieldValue: Sendable {
    init(reading reader: inout EventFieldReader) throws(EventDecodingError)
}

extension EventFieldValue where Self: FixedWidthInteger {
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        self = Self.isSigned ? Self(truncatingIfNeeded: try reader.int64()) : Self(truncatingIfNeeded: try reader.uint64())
    }
}

extension Int64: EventFieldValue {}
extension UInt64: EventFieldValue {}
extension Int32: EventFieldValue {}
extension UInt32: EventFieldValue {}

extension Bool: EventFieldValue {
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { self = try reader.bool() }
}

extension String: EventFieldValue {
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { self = try reader.string() }
}

extension Hash256: EventFieldValue {
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { self = try reader.hash() }
}

extension Payload: EventFieldValue {
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { self = try reader.payload() }
}
