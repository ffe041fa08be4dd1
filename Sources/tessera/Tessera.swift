import ArgumentParser

/// The `tessera` command.
@main
struct TesseraCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "A self-hosted token service: mints, checks and revokes JWTs.",
        version: TesseraVersion.current,
        subcommands: [Serve.self, TokenCommand.self, Keygen.self, Admin.self]
    )
}
