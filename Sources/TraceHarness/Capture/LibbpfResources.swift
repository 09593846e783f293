import CBPFShim
import Foundation
import Synchronization

/// The kernel objects of one capture: the loaded program, its maps and its
/// uprobe links. The only type that calls libbpf's object API.
final class LibbpfResources: @unchecked Sendable {
    // Mutable state is guarded by `lock`; the descriptors never change.
    private let lock = Mutex<Void>(())
    private var object: OpaquePointer?
    private var program: OpaquePointer?
    private var links: [OpaquePointer] = []
    private var objectBytes: UnsafeMutableRawBufferPointer?
    let layoutsDescriptor: Int32
    let statisticsDescriptor: Int32
    let eventsDescriptor: Int32
    private let cpuCount: Int

    init(options: Tracer.Options) throws(TracerError) {
        tt_configure_libbpf_logging(options.verboseLibbpf ? 1 : 0)
        tt_clear_libbpf_message()
        let possibleCPUs = libbpf_num_possible_cpus()
        guard possibleCPUs > 0 else { throw .loadFailed("cannot count the possible CPUs") }
        cpuCount = Int(possibleCPUs)

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
        var layouts: Int32 = -1, statistics: Int32 = -1, events: Int32 = -1
        setup: do {
            var config = tt_config(wakeup_bytes: UInt64(options.wakeupBytes))
            if tt_set_config(object, &config) != 0 {
                failure = .loadFailed("the program has no configuration section")
                break setup
            }
            guard let ring = bpf_object__find_map_by_name(object, "events") else {
                failure = .loadFailed("the program has no events map")
                break setup
            }
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            let ringBytes = options.ringBufferBytes
            guard ringBytes >= pageSize, ringBytes & (ringBytes - 1) == 0 else {
                failure = .loadFailed("ring buffer size \(ringBytes) must be a power of two of at least \(pageSize) bytes")
                break setup
            }
            if bpf_map__set_max_entries(ring, UInt32(ringBytes)) != 0 {
                failure = .loadFailed("cannot size the ring buffer to \(ringBytes) bytes")
                break setup
            }
            let loaded = bpf_object__load(object)
            if loaded != 0 {
                failure = .loadFailed(Self.reason(-loaded))
                break setup
            }
            self.program = bpf_object__find_program_by_name(object, options.attachEmptyProgram ? "empty" : "capture")
            layouts = bpf_object__find_map_fd_by_name(object, "layouts")
            statistics = bpf_object__find_map_fd_by_name(object, "probe_stats")
            events = bpf_object__find_map_fd_by_name(object, "events")
            if self.program == nil || layouts < 0 || statistics < 0 || events < 0 {
                failure = .loadFailed("the loaded program lacks its maps")
            }
        }
        layoutsDescriptor = layouts
        statisticsDescriptor = statistics
        eventsDescriptor = events
        if let failure {
            destroy()
            throw failure
        }
    }

    deinit {
        destroy()
    }

    /// Writes the layout for `cookie` into the program's layout map.
    func setLayout(_ layout: tt_layout, cookie: UInt32) throws(TracerError) {
        var key = cookie
        var value = layout
        if bpf_map_update_elem(layoutsDescriptor, &key, &value, UInt64(BPF_ANY)) != 0 {
            let reason = Self.reason(errno)
            destroy()
            throw .loadFailed("cannot write the layout of probe \(cookie): \(reason)")
        }
    }

    /// Attaches the program to every site of `probe`.
    func attach(binary: String, pid: Int32?, probe: ProbeName, cookie: UInt32) throws(TracerError) {
        let link: OpaquePointer? = lock.withLock { _ in
            guard let program else { return nil }
            tt_clear_libbpf_message()
            return tt_attach_usdt(program, pid ?? -1, binary, probe.provider, probe.name, UInt64(cookie))
        }
        guard let link else {
            let reason = Self.reason(errno)
            if let pid, kill(pid, 0) != 0 { throw .noSuchProcess(pid) }
            throw .attachFailed(probe, reason)
        }
        lock.withLock { _ in links.append(link) }
    }

    /// The kernel's counters for `cookie`, summed over CPUs.
    func statistics(cookie: UInt32) -> tt_probe_stats {
        var key = cookie
        var perCPU = [tt_probe_stats](repeating: tt_probe_stats(), count: cpuCount)
        var total = tt_probe_stats()
        guard perCPU.withUnsafeMutableBytes({ bpf_map_lookup_elem(statisticsDescriptor, &key, $0.baseAddress) }) == 0 else {
            return total
        }
        for counters in perCPU {
            total.hits += counters.hits
            total.events_lost += counters.events_lost
            total.chunks_lost += counters.chunks_lost
            total.read_faults += counters.read_faults
        }
        return total
    }

    /// Detaches every probe and unloads the program. Safe to call again.
    func destroy() {
        lock.withLock { _ in
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
