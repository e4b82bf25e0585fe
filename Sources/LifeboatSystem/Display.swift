/// Escapes bytes for display on one line: printable ASCII and valid, printable UTF-8 pass
/// through; control bytes become `\n`, `\t`, `\r`, `\x1b`...; bytes that are not valid UTF-8
/// become `\xNN`; a backslash becomes `\\` so the escaping is unambiguous.
public func escapedForDisplay(_ bytes: [UInt8]) -> String {
    var out = ""
    out.reserveCapacity(bytes.count)
    var index = 0
    let hex = Array("0123456789abcdef")
    func escapeByte(_ byte: UInt8) {
        out += "\\x"
        out.append(hex[Int(byte >> 4)])
        out.append(hex[Int(byte & 0x0f)])
    }
    while index < bytes.count {
        let byte = bytes[index]
        switch byte {
        case 0x5c: out += "\\\\"; index += 1; continue
        case 0x0a: out += "\\n"; index += 1; continue
        case 0x09: out += "\\t"; index += 1; continue
        case 0x0d: out += "\\r"; index += 1; continue
        case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(byte)); index += 1; continue
        case 0x00..<0x20, 0x7f: escapeByte(byte); index += 1; continue
        default: break
        }
        // A multi-byte UTF-8 sequence: validate it strictly, else escape the lead byte.
        let length: Int
        var scalar: UInt32
        switch byte {
        case 0xc2...0xdf: length = 2; scalar = UInt32(byte & 0x1f)
        case 0xe0...0xef: length = 3; scalar = UInt32(byte & 0x0f)
        case 0xf0...0xf4: length = 4; scalar = UInt32(byte & 0x07)
        default: escapeByte(byte); index += 1; continue
        }
        var valid = index + length <= bytes.count
        if valid {
            for offset in 1..<length {
                let next = bytes[index + offset]
                if next & 0xc0 != 0x80 { valid = false; break }
                scalar = scalar << 6 | UInt32(next & 0x3f)
            }
        }
        let minimum: UInt32 = length == 2 ? 0x80 : (length == 3 ? 0x800 : 0x10000)
        if valid, scalar >= minimum, let unicode = Unicode.Scalar(scalar), isPrintable(unicode) {
            out.unicodeScalars.append(unicode)
            index += length
        } else if valid, scalar >= minimum, Unicode.Scalar(scalar) != nil {
            // Valid but invisible or line-breaking (C1 controls, U+2028, bidi overrides): escape.
            out += "\\u{\(String(scalar, radix: 16))}"
            index += length
        } else {
            escapeByte(byte)
            index += 1
        }
    }
    return out
}

public func escapedForDisplay(_ string: String) -> String { escapedForDisplay(Array(string.utf8)) }

private func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
        return false
    default:
        return true
    }
}
