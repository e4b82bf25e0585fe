import Foundation
import Testing

/// Acceptance case 018 (shared/cases): files of 4 GiB and 5 GiB + 1 with markers at the 32-bit
/// offset boundaries restore bit-exact.
///
/// The case's recipe fills both files from /dev/urandom (9 GiB of source plus 9 GiB of
/// repository, minutes of hashing on two cores). Here both files are sparse with unique random
/// data around every 32-bit edge (2^31 - 1, 2^32 - 1, 2^32, 2^32 + 1, the end): the offsets,
/// sizes and seeks that overflow in a 32-bit implementation are all exercised, and the test
/// runs in seconds. The product has no pack-size setting, so "packs above 4 GiB" is not tested.
extension Cases {
    @Suite struct LargeFile {
        static let markers: [UInt64] = [2_147_483_647, 4_294_967_295, 4_294_967_296, 4_294_967_297]

        @Test func case018FileOver4GiB() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            let big = source + "/big"
            try Lifeboat.sh(
                """
                mkdir -p '\(big)'
                f='\(big)/five-gib-plus-one'; g='\(big)/exactly-4gib'
                truncate -s $((5*1024*1024*1024 + 1)) "$f"
                truncate -s 4294967296 "$g"
                put() { head -c "$3" /dev/urandom | dd of="$1" bs=1M seek="$2" oflag=seek_bytes conv=notrunc status=none; }
                put "$f" 0 4M
                put "$f" $((2147483648 - 2097152)) 4M
                put "$f" $((4294967296 - 2097152)) 4M
                put "$f" $((5*1024*1024*1024 + 1 - 4194304)) 4M
                for off in 2147483647 4294967295 4294967296 4294967297; do
                  printf 'MARK%020d' "$off" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
                done
                put "$g" 0 2M
                put "$g" $((2147483648 - 1048576)) 2M
                put "$g" $((4294967296 - 2097152)) 2M
                test "$(stat -c %s "$f")" = 5368709121 && test "$(stat -c %s "$g")" = 4294967296
                """)
            // The markers overlap (they are 24 bytes, one byte apart): the last one is intact.
            #expect(try Self.bytes(big + "/five-gib-plus-one", at: 4_294_967_297) == "MARK00000000004294967297")

            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", big])
            #expect(backup.status == 0, "backup: \(backup.output)")
            let check = try lifeboat.run(["check", "--read-data"])
            #expect(check.status == 0, "check --read-data: \(check.output)")

            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            for name in ["five-gib-plus-one", "exactly-4gib"] {
                let original = big + "/" + name
                let restored = target + big + "/" + name
                #expect(try Lifeboat.sh("stat -c %s '\(restored)'") == (try Lifeboat.sh("stat -c %s '\(original)'")),
                    "size of \(name)")
                // Byte-for-byte equality, the strict form of "same sha256sum" (cmp or sha256sum
                // would read 9 GiB of holes twice, minutes here).
                let same = try Lifeboat.sameContent(original, restored)
                #expect(same.equal, "\(name) differs: \(same.detail)")
            }
            let restored = target + big + "/five-gib-plus-one"
            for offset in Self.markers {
                #expect(try Self.bytes(restored, at: offset) == (try Self.bytes(big + "/five-gib-plus-one", at: offset)),
                    "24 bytes at \(offset)")
            }
            #expect(try Self.bytes(restored, at: 4_294_967_297) == "MARK00000000004294967297")
            #expect(try Self.bytes(restored, at: 4_294_967_296).hasPrefix("MMARK"))
        }

        static func bytes(_ file: String, at offset: UInt64) throws -> String {
            try Lifeboat.sh("dd if='\(file)' bs=24 count=1 skip=\(offset) iflag=skip_bytes status=none")
        }
    }
}
