import Foundation

/// The compiled eBPF capture program, embedded in the binary at build time.
enum CaptureProgram {
    /// The program's ELF object bytes.
    static let object: [UInt8] = Array(Data(base64Encoded: captureProgramObjectBase64) ?? Data())
}
