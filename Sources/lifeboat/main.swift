import Foundation
import LifeboatCLI

// The raw bytes of argv: `CommandLine.arguments` would replace non-UTF-8 bytes in paths.
let arguments = (1..<Int(CommandLine.argc)).map { index -> [UInt8] in
    guard let pointer = CommandLine.unsafeArgv[index] else { return [] }
    return Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer))).map { UInt8(bitPattern: $0) }
}
exit(LifeboatCLI.run(rawArguments: arguments))
