import ArgumentParser
import Foundation
import Synchronization
import TraceHarness
import TraceTools

/// The signal that asked a monitor to stop (0: none), set from a signal handler.
private let monitorStopSignal = Atomic<Int32>(0)
/// Set by SIGWINCH: the terminal was resized.
private let monitorResized = Atomic<Bool>(false)

/// The terminal of an interactive monitor, without curses: raw mode through
/// termios, the alternate screen and ANSI escape sequences.
///
/// ``enter()`` saves the terminal's settings; ``restore()`` (idempotent)
/// puts them back and is called on every way out: a key, a signal
/// (SIGINT, SIGTERM, SIGHUP, SIGQUIT are caught and end the loop), the
/// traced process exiting, or an error.
final class MonitorTerminal {
    private var saved = termios()
    private var active = false
    private var lastSize: (width: Int, height: Int) = (0, 0)
    private var lastLineCount = 0

    /// Fails unless standard input and output are both terminals.
    init(command: String) throws {
        guard isatty(STDOUT_FILENO) == 1 else {
            throw CommandFailure("\(command): standard output is not a terminal; run it in a terminal, or use --json for JSON Lines")
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CommandFailure("\(command): standard input is not a terminal; run it in a terminal, or use --json for JSON Lines")
        }
    }

    /// Raw mode, the alternate screen, no cursor, no line wrap; signal handlers.
    func enter() throws {
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else {
            throw CommandFailure("cannot read the terminal's settings: \(String(cString: strerror(errno)))")
        }
        var raw = saved
        cfmakeraw(&raw)
        raw.c_oflag |= tcflag_t(OPOST | ONLCR)
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0 else {
            throw CommandFailure("cannot put the terminal in raw mode: \(String(cString: strerror(errno)))")
        }
        active = true
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(number) { monitorStopSignal.store($0, ordering: .relaxed) }
        }
        signal(SIGWINCH) { _ in monitorResized.store(true, ordering: .relaxed) }
        // A parent may have started us with these blocked; they must arrive.
        var handled = sigset_t()
        sigemptyset(&handled)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH] { sigaddset(&handled, number) }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
        signal(SIGPIPE, SIG_IGN)
        write("\u{1b}[?1049h\u{1b}[?25l\u{1b}[?7l\u{1b}[2J\u{1b}[H")
    }

    /// Leaves the alternate screen and restores the saved settings.
    func restore() {
        guard active else { return }
        active = false
        write("\u{1b}[0m\u{1b}[?7h\u{1b}[?25h\u{1b}[?1049l")
        _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
        // The stop signals keep their handler: a second SIGHUP (the kernel's,
        // after tmux's or a terminal's own) must not kill the process before
        // it prints its summary.
        signal(SIGWINCH, SIG_DFL)
    }

    deinit { restore() }

    /// The signal that asked to stop, if one arrived.
    var stopSignal: Int32? {
        let number = monitorStopSignal.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// The terminal's size now (TIOCGWINSZ), read every frame.
    func size() -> (width: Int, height: Int) {
        var window = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 else {
            return (80, 24)
        }
        return (Int(window.ws_col), Int(window.ws_row))
    }

    /// Bytes typed, waiting at most `milliseconds`: empty on timeout or a
    /// signal, nil once the terminal is gone (hung up, closed).
    func read(waiting milliseconds: Int32) -> [UInt8]? {
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 { return errno == EINTR ? [] : nil }
        guard ready > 0 else { return [] }
        if descriptor.revents & Int16(POLLIN) == 0 { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { Foundation.read(STDIN_FILENO, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return [] }
        return count > 0 ? Array(buffer.prefix(count)) : nil
    }

    /// Whether a resize was signalled since the last call.
    func takeResized() -> Bool {
        monitorResized.exchange(false, ordering: .relaxed)
    }

    /// Draws a frame from the top-left corner, clearing first when the size
    /// or the number of lines changed.
    func draw(_ frame: ScreenFrame, width: Int, height: Int) {
        var text = ""
        if (width, height) != lastSize || frame.lines.count != lastLineCount {
            text += "\u{1b}[2J"
            lastSize = (width, height)
            lastLineCount = frame.lines.count
        }
        for (row, line) in frame.lines.prefix(height).enumerated() {
            text += "\u{1b}[\(row + 1);1H"
            text += row == frame.highlighted ? "\u{1b}[7m\(line)\u{1b}[0m" : line
        }
        write(text)
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// Runs a monitor's `--json` mode: one JSON line per event `format` accepts,
/// until Ctrl-C, `--duration`, the process exiting or a closed pipe; then the
/// summary on standard error.
func runMonitorJSONLines(tracer: Tracer, target: ToolTarget, duration: Double?, format: @escaping @Sendable (TraceEvent) -> String?) async {
    Output.ignoreBrokenPipe()
    Output.note("tracing \(target.description); Ctrl-C to stop")
    let session = CaptureSession(tracer: tracer, stopAfterSeconds: duration, processToWatch: target.pid, stopOnSignals: true)
    let summary = await session.run { event in
        guard let line = format(event) else { return .skipped }
        return Output.line(line) ? .keepGoing : .failed("standard output closed")
    }
    Output.flush()
    Output.summary(summary)
}

/// Runs an interactive monitor: the capture hands every event to `record`
/// while the terminal's loop, on a thread of its own, reads keys and redraws
/// (see ``MonitorLoop``), until a key, a signal, the terminal going away or
/// the traced process exiting ends it. Returns the capture's summary, after
/// the terminal is restored.
///
/// Traced by binary path, each process seen in an event is watched: before a
/// frame is drawn, `exited` is told of those that exited since the last.
func runInteractiveMonitor(
    terminal: MonitorTerminal, tracer: Tracer, target: ToolTarget,
    record: @escaping @Sendable (TraceEvent) -> Void, exited: @escaping (Int32) -> Void,
    handle: @escaping (MonitorKey) -> Bool, render: @escaping (_ width: Int, _ height: Int) -> ScreenFrame
) async throws -> CaptureSummary {
    // Only the loop stops this session, once it is done with the terminal and
    // `render` (which reads the tracer's counters): the tracer is closed after.
    let session = CaptureSession(tracer: tracer)
    try terminal.enter()
    let watch = target.pid == nil ? ProcessWatch() : nil
    let loop = MonitorLoop(terminal: terminal, pid: target.pid, handle: handle) { width, height in
        for pid in watch?.exited() ?? [] { exited(pid) }
        return render(width, height)
    }
    async let summary = session.run { event in
        watch?.observe(event.pid)
        record(event)
        return .keepGoing
    }
    await loop.run(until: session)
    terminal.restore()
    return await summary
}

/// An interactive monitor's loop: reads keys (telling a lone ESC from an
/// arrow key by a 40 ms pause), redraws five times a second, on a key and on
/// a resize, and ends the session on `handle` returning true, a signal, the
/// terminal going away or the traced process exiting.
///
/// `@unchecked Sendable`: the terminal and the closures are used by one
/// thread at a time: the loop's own thread while ``run(until:)`` runs, the
/// caller's before and after; `run(until:)` returns only once that thread is done.
final class MonitorLoop: @unchecked Sendable {
    private let terminal: MonitorTerminal
    private let pid: Int32?
    private let handle: (MonitorKey) -> Bool
    private let render: (_ width: Int, _ height: Int) -> ScreenFrame

    init(terminal: MonitorTerminal, pid: Int32?, handle: @escaping (MonitorKey) -> Bool,
         render: @escaping (_ width: Int, _ height: Int) -> ScreenFrame) {
        self.terminal = terminal
        self.pid = pid
        self.handle = handle
        self.render = render
    }

    /// Runs the loop on a thread of its own, so that its blocking `poll` of the
    /// terminal never holds a thread of Swift's cooperative pool; stops `session`
    /// with the loop's reason when the loop ends it.
    func run(until session: CaptureSession) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                if let reason = self.loop(session) { session.stop(reason) }
                continuation.resume()
            }
            thread.name = "monitor terminal"
            thread.start()
        }
    }

    /// The reason the loop ended the capture, or nil when the session was stopped elsewhere.
    private func loop(_ session: CaptureSession) -> String? {
        var decoder = MonitorKeyDecoder()
        var lastDraw = ContinuousClock.now - .seconds(1)
        var lastProcessCheck = ContinuousClock.now
        var dirty = true
        while session.stopReason == nil {
            if let number = terminal.stopSignal {
                switch number {
                case SIGINT: return "interrupted"
                case SIGTERM: return "terminated"
                case SIGHUP: return "terminal hung up"
                default: return "signal \(number)"
                }
            }
            guard let bytes = terminal.read(waiting: decoder.hasPending ? 40 : 50) else { return "terminal closed" }
            let keys = bytes.isEmpty ? (decoder.hasPending ? decoder.flushPending() : []) : decoder.feed(bytes)
            for key in keys {
                if handle(key) { return key == .interrupt ? "interrupted" : "quit" }
                dirty = true
            }
            if terminal.takeResized() { dirty = true }
            let now = ContinuousClock.now
            if let pid, now - lastProcessCheck > .milliseconds(250) {
                lastProcessCheck = now
                if kill(pid, 0) != 0 && errno == ESRCH { return "process \(pid) exited" }
            }
            if dirty || now - lastDraw >= .milliseconds(200) {
                let size = terminal.size()
                terminal.draw(render(size.width, size.height), width: size.width, height: size.height)
                lastDraw = now
                dirty = false
            }
        }
        return nil
    }
}
