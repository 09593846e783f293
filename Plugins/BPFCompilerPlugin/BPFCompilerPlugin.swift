import Foundation
import PackagePlugin

/// Compiles the eBPF capture program with the toolchain's own clang and embeds
/// the object in the target as Swift source.
///
/// The program lives in `Capture/BPF` inside the target, a folder the target
/// excludes so that SwiftPM does not treat it as mixed-language. Its record
/// layout comes from the CBPFShim target's public header `capture_abi.h`, the
/// one definition both sides compile.
@main
struct BPFCompilerPlugin: BuildToolPlugin {
    /// libbpf's name for the host architecture (`__TARGET_ARCH_…`, which
    /// selects the `pt_regs` layout) and Debian's multiarch include folder.
    #if arch(x86_64)
    static let (targetArchitecture, multiarch) = ("x86", "x86_64-linux-gnu")
    #elseif arch(arm64)
    static let (targetArchitecture, multiarch) = ("arm64", "aarch64-linux-gnu")
    #else
    #error("the eBPF capture program is built for x86_64 and arm64 hosts only")
    #endif

    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        guard let sourceTarget = target as? SourceModuleTarget else { return [] }
        let source = sourceTarget.directoryURL.appending(path: "Capture/BPF/capture.bpf.c")
        let shimHeaders = context.package.directoryURL.appending(path: "Sources/CBPFShim/include")
        let abiHeader = shimHeaders.appending(path: "capture_abi.h")
        let swiftSource = context.pluginWorkDirectoryURL.appending(path: "CaptureProgramObject.swift")
        let clang = try context.tool(named: "clang").url

        return [
            .buildCommand(
                displayName: "Compiling and embedding the eBPF capture program",
                executable: try context.tool(named: "BPFEmbedder").url,
                arguments: [
                    swiftSource.path(), "captureProgramObjectBase64", clang.path(),
                    "-target", "bpf", "-mcpu=v3", "-O2", "-g",
                    "-D__TARGET_ARCH_\(Self.targetArchitecture)",
                    "-I/usr/include/\(Self.multiarch)",
                    "-I", shimHeaders.path(),
                    "-c", source.path(),
                ],
                inputFiles: [source, abiHeader],
                outputFiles: [swiftSource]
            )
        ]
    }
}
