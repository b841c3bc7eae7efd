internal import CPlatform

/// What this binary is: the release it belongs to and the build it came from.
///
/// The version is this constant, bumped with each release (the Makefile's `make deb` reads it from
/// here for the package version, so there is one place to change). The build id is not in any
/// source file: `make release` links a one-symbol object made by `scripts/build-id.sh` (the short
/// commit, `-dirty` for uncommitted changes, and the commit's date); a plain `swift build` has
/// none and says `dev`.
public enum BuildInfo {
    public static let version = "0.5.0"

    /// `4b1d973, 2026-12-02`, or `dev` for a build that `make release` did not make.
    public static var build: String {
        guard let id = CPlatform_build_id() else { return "dev" }
        let text = String(cString: id)
        return text.isEmpty ? "dev" : text
    }

    /// `coop-edge 0.5.0 (build 4b1d973, 2026-12-02)`.
    public static func line(_ program: String) -> String {
        "\(program) \(version) (build \(build))"
    }
}
