import Foundation
import LifeboatCLI

exit(LifeboatCLI.run(Array(CommandLine.arguments.dropFirst())))
