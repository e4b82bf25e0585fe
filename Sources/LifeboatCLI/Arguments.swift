/// A small argument parser: `--flag`, `--option value`, `--option=value`, `-x`, positionals.
/// Unknown options are errors that name the option, so a typo never silently changes a backup.
/// Values are kept as raw bytes too: a path argument need not be UTF-8.
struct Arguments {
    private(set) var rawPositionals: [[UInt8]] = []
    private var options: [String: [[UInt8]]] = [:]
    private var flags: Set<String> = []

    struct Spec {
        /// Options that take a value, e.g. "repo", "target".
        var valued: Set<String>
        /// Options that are plain switches, e.g. "json", "force".
        var switches: Set<String>
        /// One-letter aliases, e.g. "l": "long".
        var aliases: [Character: String] = [:]
    }

    init(_ arguments: [String], spec: Spec) throws(UsageError) {
        try self.init(raw: arguments.map { Array($0.utf8) }, spec: spec)
    }

    init(raw arguments: [[UInt8]], spec: Spec) throws(UsageError) {
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let rawArgument = arguments[index]
            let argument = String(decoding: rawArgument, as: UTF8.self)
            index += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
                rawPositionals.append(rawArgument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            var name: String
            var inlineValue: [UInt8]?
            if argument.hasPrefix("--") {
                name = String(argument.dropFirst(2))
                if let equals = rawArgument.firstIndex(of: UInt8(ascii: "=")) {
                    inlineValue = Array(rawArgument[(equals + 1)...])
                    name = String(decoding: rawArgument[2..<equals], as: UTF8.self)
                }
            } else {
                guard argument.count == 2, let letter = argument.last, let long = spec.aliases[letter] else {
                    throw UsageError("unknown option \(argument)")
                }
                name = long
            }
            if spec.valued.contains(name) {
                if let inlineValue {
                    options[name, default: []].append(inlineValue)
                } else {
                    guard index < arguments.count else { throw UsageError("option --\(name) needs a value") }
                    options[name, default: []].append(arguments[index])
                    index += 1
                }
            } else if spec.switches.contains(name) {
                guard inlineValue == nil else { throw UsageError("option --\(name) takes no value") }
                flags.insert(name)
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    var positionals: [String] { rawPositionals.map { String(decoding: $0, as: UTF8.self) } }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func value(_ name: String) -> String? { rawValue(name).map { String(decoding: $0, as: UTF8.self) } }
    func values(_ name: String) -> [String] { rawValues(name).map { String(decoding: $0, as: UTF8.self) } }
    func rawValue(_ name: String) -> [UInt8]? { options[name]?.last }
    func rawValues(_ name: String) -> [[UInt8]] { options[name] ?? [] }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
