import CBPFShim

/// How a ``Tracer`` attaches the capture program to the probe sites.
///
/// Both ways run the same program with the same per-site table; they differ
/// in what the kernel pays to attach and detach. Detaching per-site uprobes
/// costs one synchronisation each (about 0.1 s per site); one multi-uprobe
/// link is registered and unregistered in one batch.
public enum AttachMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible, Codable {
    /// One multi-uprobe link where the kernel has them (Linux 6.6 and later,
    /// with per-process filtering), else one uprobe per site.
    case automatic = "auto"
    /// One multi-uprobe link (`BPF_TRACE_UPROBE_MULTI`) for every site.
    case multiUprobe = "multi"
    /// One perf-event uprobe per site, for kernels without multi-uprobe links.
    case perSite = "per-site"

    public var description: String { rawValue }

    /// How this mode is said in a sentence: "one multi-uprobe link".
    public func phrase(sites: Int) -> String {
        switch self {
        case .automatic: "automatically chosen links"
        case .multiUprobe: "one multi-uprobe link"
        case .perSite: "\(sites) per-site uprobe\(sites == 1 ? "" : "s")"
        }
    }

    /// Whether the running kernel has multi-uprobe links that filter by
    /// process; asked once per process.
    public static let kernelHasMultiUprobe: Bool = tt_kernel_has_uprobe_multi() == 1

    /// The mode ``automatic`` stands for on this kernel; others as they are.
    public var resolved: AttachMode {
        guard self == .automatic else { return self }
        return Self.kernelHasMultiUprobe ? .multiUprobe : .perSite
    }
}
