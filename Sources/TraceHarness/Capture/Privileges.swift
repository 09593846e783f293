import Foundation

/// Whether this process may load eBPF programs and attach uprobes.
public enum Privileges {
    private static let capSysAdmin = 21
    private static let capPerfmon = 38
    private static let capBPF = 39

    /// nil when tracing is permitted, else what is missing, in words a user
    /// can act on.
    public static func missingForTracing() -> String? {
        guard let effective = effectiveCapabilities() else {
            return geteuid() == 0 ? nil : "cannot read this process's capabilities; run as root"
        }
        func has(_ capability: Int) -> Bool { effective & (1 << UInt64(capability)) != 0 }
        if has(capSysAdmin) || (has(capBPF) && has(capPerfmon)) { return nil }
        let missing = [(capBPF, "CAP_BPF"), (capPerfmon, "CAP_PERFMON")].filter { !has($0.0) }.map(\.1)
        return "missing \(missing.joined(separator: " and ")) (run as root, or grant them with setcap cap_bpf,cap_perfmon+ep)"
    }

    /// The effective capability set from /proc/self/status.
    static func effectiveCapabilities() -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        }
        return nil
    }
}
