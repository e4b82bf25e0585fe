import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Terminal I/O: output streams, no-echo passphrase prompts, and a one-line progress display.
enum Terminal {
    static func write(_ text: String, to fd: Int32 = 1) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return  // the terminal or pipe is gone: nothing useful to do with the output
            }
            done += n
        }
    }

    static func print(_ line: String) { write(line + "\n") }
    static func error(_ line: String) { write(line + "\n", to: 2) }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }
    static var stdinIsTerminal: Bool { isatty(0) == 1 }

    /// Reads a line from the terminal with echo off (the passphrase prompt).
    static func readSecret(prompt: String) -> String? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        write(prompt, to: fd)
        var saved = termios()
        let haveTermios = tcgetattr(fd, &saved) == 0
        if haveTermios {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if haveTermios { tcsetattr(fd, TCSAFLUSH, &saved) }
            write("\n", to: fd)
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}

/// Formats byte counts and durations for people.
enum Human {
    /// "1 entry", "2 entries": `count` with the singular or plural noun.
    static func count(_ count: some BinaryInteger, _ singular: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
    }

    static func bytes(_ value: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", amount, units[unit])
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) }
        return String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// A status line redrawn in place on stderr, at most ten times a second.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drawn = false
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        var line = text()
        var width = 100
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 10 { width = Int(size.ws_col) - 1 }
        if line.count > width { line = String(line.prefix(width)) }
        Terminal.write("\r\u{1B}[K" + line, to: 2)
        drawn = true
    }

    func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        if drawn { Terminal.write("\r\u{1B}[K", to: 2) }
        drawn = false
    }
}
