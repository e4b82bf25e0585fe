// swift-tools-version:6.0
import PackageDescription

// Lifeboat: endpoint backup agent. Module layout and the direction of imports follow
// DESIGN.md §3: C modules at the bottom, then system/crypto, the repository core,
// file sources and restore, and the CLI on top.

let package = Package(
    name: "Lifeboat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lifeboat", targets: ["lifeboat"]),
    ],
    targets: [
        // C libraries from Debian, found by pkg-config.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // What Swift cannot import from Glibc (ioctl codes, _GNU_SOURCE-only calls).
        .target(name: "CLinuxShims"),

        .target(name: "LifeboatSystem", dependencies: ["CLinuxShims"]),
        .target(name: "LifeboatCrypto", dependencies: ["COpenSSL"]),
        .target(name: "LifeboatSQLite", dependencies: ["CSQLite"]),
        .target(
            name: "LifeboatRepository",
            dependencies: ["LifeboatCrypto", "LifeboatSystem", "LifeboatSQLite", "CZstd"]),
        .target(name: "LifeboatFiles", dependencies: ["LifeboatRepository", "LifeboatSystem"]),
        .target(
            name: "LifeboatCLI", dependencies: ["LifeboatFiles", "LifeboatRepository", "LifeboatSystem", "CLinuxShims"]),
        .executableTarget(name: "lifeboat", dependencies: ["LifeboatCLI"]),

        .testTarget(name: "LifeboatCryptoTests", dependencies: ["LifeboatCrypto"]),
        .testTarget(name: "LifeboatSQLiteTests", dependencies: ["LifeboatSQLite"]),
        .testTarget(name: "LifeboatSystemTests", dependencies: ["LifeboatSystem"]),
        .testTarget(name: "LifeboatRepositoryTests", dependencies: ["LifeboatRepository"], exclude: ["Golden"]),
        .testTarget(name: "LifeboatFilesTests", dependencies: ["LifeboatFiles"]),
        .testTarget(name: "LifeboatCLITests", dependencies: ["lifeboat"]),
    ]
)

// Strictness is set once, for every target.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
