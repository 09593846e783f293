import CBPFShim
import Foundation
import Synchronization

/// The kernel objects of one capture: the loaded program, its maps and its
/// uprobe links. The only type that calls libbpf's object API.
// @unchecked Sendable: the mutable state (object, program, links) is only
// touched under `lock`; the map descriptors are constants once loaded, and
// the kernel serialises concurrent map operations on them.
final class LibbpfResources: @unchecked Sendable {
    /// What to load.
    struct Configuration {
        /// How the program will be attached: it must be loaded for it.
        var mode: AttachMode
        var ringBufferBytes: Int
        var wakeupBytes: Int
        /// Load the program that records nothing (benchmarks).
        var emptyProgram = false
        var verbose = false
    }

    private let lock = Mutex<Void>(())
    private var object: OpaquePointer?
    private var program: OpaquePointer?
    /// Per-site uprobes (perf events).
    private var links: [OpaquePointer] = []
    /// Multi-uprobe links.
    private var linkDescriptors: [Int32] = []
    private var objectBytes: UnsafeMutableRawBufferPointer?
    let sitesDescriptor: Int32
    let statisticsDescriptor: Int32
    let processLossesDescriptor: Int32
    let eventsDescriptor: Int32
    let programDescriptor: Int32
    let ringBufferBytes: Int
    private let cpuCount: Int

    init(_ configuration: Configuration) throws(TracerError) {
        precondition(configuration.mode != .automatic, "resolve the attach mode first")
        tt_configure_libbpf_logging(configuration.verbose ? 1 : 0)
        tt_clear_libbpf_message()
        let possibleCPUs = libbpf_num_possible_cpus()
        guard possibleCPUs > 0 else { throw .loadFailed("cannot count the possible CPUs") }
        cpuCount = Int(possibleCPUs)
        ringBufferBytes = configuration.ringBufferBytes

        // libelf reads the object in place until it is loaded: keep a copy
        // that lives as long as the object.
        let program = CaptureProgram.object
        guard !program.isEmpty else { throw .loadFailed("the embedded program is empty (a build problem)") }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: program.count, alignment: 16)
        bytes.copyBytes(from: program)
        objectBytes = bytes

        guard let object = tt_open_object(bytes.baseAddress, bytes.count, "tapyrus_trace") else {
            bytes.deallocate()
            objectBytes = nil
            throw .loadFailed(Self.reason(errno))
        }
        self.object = object
        var failure: TracerError?
        var descriptors = (sites: Int32(-1), statistics: Int32(-1), losses: Int32(-1), events: Int32(-1), program: Int32(-1))
        setup: do {
            var config = tt_config(wakeup_bytes: UInt64(configuration.wakeupBytes))
            if tt_set_config(object, &config) != 0 {
                failure = .loadFailed("the program has no configuration section")
                break setup
            }
            guard let ring = bpf_object__find_map_by_name(object, "events") else {
                failure = .loadFailed("the program has no events map")
                break setup
            }
            if bpf_map__set_max_entries(ring, UInt32(configuration.ringBufferBytes)) != 0 {
                failure = .loadFailed("cannot size the ring buffer to \(configuration.ringBufferBytes) bytes")
                break setup
            }
            let chosen = configuration.emptyProgram ? "empty" : "capture"
            guard let used = bpf_object__find_program_by_name(object, chosen),
                  let unused = bpf_object__find_program_by_name(object, configuration.emptyProgram ? "capture" : "empty")
            else {
                failure = .loadFailed("the object lacks its programs")
                break setup
            }
            // The verifier need not check a program that will not run.
            bpf_program__set_autoload(unused, false)
            if configuration.mode == .multiUprobe {
                bpf_program__set_expected_attach_type(used, bpf_attach_type(rawValue: UInt32(TT_ATTACH_UPROBE_MULTI)))
            }
            let loaded = bpf_object__load(object)
            if loaded != 0 {
                failure = .loadFailed(Self.reason(-loaded))
                break setup
            }
            self.program = used
            descriptors = (
                bpf_object__find_map_fd_by_name(object, "sites"),
                bpf_object__find_map_fd_by_name(object, "site_stats"),
                bpf_object__find_map_fd_by_name(object, "process_losses"),
                bpf_object__find_map_fd_by_name(object, "events"),
                bpf_program__fd(used)
            )
            if [descriptors.sites, descriptors.statistics, descriptors.losses, descriptors.events, descriptors.program].contains(where: { $0 < 0 }) {
                failure = .loadFailed("the loaded program lacks its maps")
            }
        }
        sitesDescriptor = descriptors.sites
        statisticsDescriptor = descriptors.statistics
        processLossesDescriptor = descriptors.losses
        eventsDescriptor = descriptors.events
        programDescriptor = descriptors.program
        if let failure {
            destroy()
            throw failure
        }
    }

    deinit {
        destroy()
    }

    /// Writes the entry of site `index` into the program's site table.
    func setSite(_ site: tt_site, index: UInt32) throws(TracerError) {
        var key = index
        var value = site
        if bpf_map_update_elem(sitesDescriptor, &key, &value, UInt64(BPF_ANY)) != 0 {
            let reason = Self.reason(errno)
            destroy()
            throw .loadFailed("cannot write the entry of site \(index): \(reason)")
        }
    }

    /// Where and with which cookie one site is attached.
    struct Attachment {
        var offset: UInt64
        var semaphoreOffset: UInt64
        var cookie: UInt64
    }

    /// Attaches the program to every site in one multi-uprobe link. Throws
    /// the kernel's reason, without naming a probe.
    func attachMulti(binary: String, pid: Int32?, _ attachments: [Attachment]) throws(AttachError) {
        let offsets = attachments.map(\.offset)
        let semaphores = attachments.map(\.semaphoreOffset)
        let cookies = attachments.map(\.cookie)
        let anySemaphore = semaphores.contains { $0 != 0 }
        let (descriptor, error) = offsets.withUnsafeBufferPointer { offsets in
            semaphores.withUnsafeBufferPointer { semaphores in
                cookies.withUnsafeBufferPointer { cookies in
                    let descriptor = tt_attach_uprobe_multi(
                        programDescriptor, binary, offsets.baseAddress, anySemaphore ? semaphores.baseAddress : nil,
                        cookies.baseAddress, UInt32(attachments.count), pid ?? 0)
                    return (descriptor, errno)
                }
            }
        }
        guard descriptor >= 0 else { throw AttachError(errno: error, reason: String(cString: strerror(error))) }
        lock.withLock { _ in linkDescriptors.append(descriptor) }
    }

    /// Attaches the program to one site as its own uprobe.
    func attachUprobe(binary: String, pid: Int32?, _ attachment: Attachment) throws(AttachError) {
        let link: OpaquePointer? = lock.withLock { _ in
            guard let program else { return nil }
            tt_clear_libbpf_message()
            return tt_attach_uprobe(program, pid ?? -1, binary, attachment.offset, attachment.semaphoreOffset, attachment.cookie)
        }
        guard let link else {
            let error = errno
            throw AttachError(errno: error, reason: Self.reason(error))
        }
        lock.withLock { _ in links.append(link) }
    }

    /// Why the kernel refused an attachment.
    struct AttachError: Error {
        var errno: Int32
        var reason: String
    }

    /// The kernel's counters for site `index`, summed over CPUs.
    func siteStatistics(_ index: UInt32) -> tt_site_stats {
        var key = index
        var perCPU = [tt_site_stats](repeating: tt_site_stats(), count: cpuCount)
        var total = tt_site_stats()
        guard perCPU.withUnsafeMutableBytes({ bpf_map_lookup_elem(statisticsDescriptor, &key, $0.baseAddress) }) == 0 else {
            return total
        }
        for counters in perCPU {
            total.hits += counters.hits
            total.events_lost += counters.events_lost
            total.chunks_lost += counters.chunks_lost
            total.read_faults += counters.read_faults
            total.unattributed += counters.unattributed
        }
        return total
    }

    /// The failures the kernel counted for process `pid` at site `index`.
    func processLosses(pid: Int32, site index: UInt32) -> tt_process_losses {
        var key = tt_process_key(pid: UInt32(bitPattern: pid), site: index)
        var value = tt_process_losses()
        _ = bpf_map_lookup_elem(processLossesDescriptor, &key, &value)
        return value
    }

    /// The processes with failures counted, each once.
    func processesWithLosses() -> Set<Int32> {
        var pids = Set<Int32>()
        var key = tt_process_key()
        var next = tt_process_key()
        var previous: UnsafeMutableRawPointer? = nil
        while withUnsafeMutablePointer(to: &next, { bpf_map_get_next_key(processLossesDescriptor, previous, $0) }) == 0 {
            pids.insert(Int32(bitPattern: next.pid))
            key = next
            previous = withUnsafeMutablePointer(to: &key) { UnsafeMutableRawPointer($0) }
        }
        return pids
    }

    /// Detaches every probe and unloads the program. Safe to call again.
    ///
    /// A multi-uprobe link is unregistered in one batch; per-site uprobes
    /// each wait for a kernel synchronisation (about 0.1 s each here, and
    /// detaching them from parallel threads saved only a quarter of it).
    func destroy() {
        lock.withLock { _ in
            for descriptor in linkDescriptors { close(descriptor) }
            linkDescriptors.removeAll()
            for link in links { bpf_link__destroy(link) }
            links.removeAll()
            if let object { bpf_object__close(object) }
            object = nil
            program = nil
            objectBytes?.deallocate()
            objectBytes = nil
        }
    }

    /// errno's text, with libbpf's own last message when it said something.
    static func reason(_ error: Int32) -> String {
        var message = Substring(String(cString: tt_last_libbpf_message()))
        while message.hasPrefix("libbpf: ") { message = message.dropFirst("libbpf: ".count) }
        let system = String(cString: strerror(error))
        return message.isEmpty ? system : "\(system) (libbpf: \(message))"
    }
}
