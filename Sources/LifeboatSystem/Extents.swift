import CLinuxShims
import Glibc

/// A run of allocated data in a file.
public struct DataRange: Hashable, Sendable {
    public var offset: UInt64
    public var length: UInt64
    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }
    public var end: UInt64 { offset + length }
}

extension FileDescriptor {
    /// The data ranges of the first `size` bytes, as SEEK_DATA / SEEK_HOLE report them. A file
    /// system without hole support reports one range covering everything.
    public func dataRanges(size: UInt64) throws -> [DataRange] {
        var ranges = [DataRange]()
        var offset: UInt64 = 0
        let fd = rawValue
        while offset < size {
            let data = cl_seek_data(fd, Int64(offset))
            if data < 0 {
                let error = Errno.current
                if error == .ENXIO { break }  // only a hole remains
                if error == .EINTR { continue }
                if error.isUnsupported { return [DataRange(offset: 0, length: size)] }
                throw SystemError("seek data", errno: error)
            }
            let start = UInt64(data)
            if start >= size { break }
            var hole = cl_seek_hole(fd, data)
            while hole < 0 && Errno.current == .EINTR { hole = cl_seek_hole(fd, data) }
            if hole < 0 {
                let error = Errno.current
                if error == .ENXIO { break }  // truncated meanwhile
                throw SystemError("seek hole", errno: error)
            }
            let end = min(UInt64(hole), size)
            if end > start { ranges.append(DataRange(offset: start, length: end - start)) }
            offset = end
        }
        return ranges
    }
}
