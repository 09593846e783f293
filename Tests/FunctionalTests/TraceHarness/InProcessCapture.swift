import Testing

/// The suites that load the capture program in this test process, one test
/// at a time: some count this process's BPF descriptors and its mappings,
/// and floods must not compete with each other for the two cores.
@Suite("Capture in the test process", .serialized)
enum InProcessCapture {}
