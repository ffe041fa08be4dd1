import Foundation
import TesseraCore

extension FuzzTargets {
    /// The instant the offline checks run at (any fixed time: the fuzzer explores the claims).
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// Every compact JWS Tessera reads (Lake bearer, access token, TR50 JWT, client assertion) up
    /// to the key lookup: `CompactJWS` with a JSON payload and with an opaque one,
    /// `LakeAssertionVerifier.offlineProblems` and the one pipeline's `JWSPipeline.parse` (header rules, no key).
    static func token(_ body: [UInt8]) {
        let token = String(decoding: body, as: UTF8.self)
        let bytes = Array(token.utf8)
        let strict = Result { () throws(TesseraError) in try CompactJWS(token) }
        let opaque = Result { () throws(TesseraError) in try CompactJWS(token, payload: .opaque) }
        let algorithm = Result { () throws(TesseraError) in try JWSPipeline.parse(token, rules: .clientAssertion, payload: .opaque).header.algorithm }
        let problems = LakeAssertionVerifier.offlineProblems(token, now: now, configuration: LakeConfiguration())

        // A refusal carries a code README documents.
        for refusal in problems + [strict.failure, opaque.failure, algorithm.failure].compactMap({ $0 }) {
            precondition(DocumentedCodes.lake.contains(refusal.code), "refused with undocumented code \(refusal.code): \(refusal.message)")
            precondition(refusal.kind == .unauthenticated, "a token refusal \(refusal.code) is not a 401")
        }

        // What parses re-serialises to the same bytes, and passes a second reading.
        if case .success(let jws) = opaque { checkReserialises(jws, bytes) }
        if case .success(let jws) = strict { checkPayloadIsStrictJSON(jws, bytes) }

        // A JSON payload is a stricter reading than an opaque one, never a laxer one.
        switch (strict, opaque) {
        case (.success(let a), .success(let b)):
            precondition(a.header == b.header && a.payloadBytes == b.payloadBytes && a.signature == b.signature, "the two payload forms read different tokens")
        case (.success, .failure(let refusal)):
            preconditionFailure("accepted with a JSON payload but refused as opaque (\(refusal.code))")
        case (.failure(let a), .failure(let b)):
            precondition(a.code == b.code, "the two payload forms refuse with \(a.code) and \(b.code)")
        case (.failure, .success):
            break  // a payload that is not a JSON object
        }

        // offlineProblems and JWSPipeline.parse apply the same header rules.
        switch strict {
        case .failure(let refusal):
            precondition(problems.map(\.code) == [refusal.code], "offlineProblems \(problems.map(\.code)) for a token that does not parse (\(refusal.code))")
        case .success:
            let headerProblems = problems.filter { DocumentedCodes.header.contains($0.code) }
            switch algorithm {
            case .failure(let refusal):
                precondition(headerProblems.first?.code == refusal.code, "JWSPipeline.parse refuses (\(refusal.code)), offlineProblems says \(headerProblems.map(\.code))")
            case .success:
                precondition(headerProblems.allSatisfy { $0.code == "kid_missing" || $0.code == "kid_invalid" }, "JWSPipeline.parse accepts a header offlineProblems refuses: \(headerProblems.map(\.code))")
            }
            if problems.isEmpty, case .failure(let refusal) = algorithm {
                preconditionFailure("offlineProblems finds nothing but JWSPipeline.parse refuses (\(refusal.code))")
            }
        }
        if case .success(let named) = algorithm { checkHeaderRules(bytes, algorithm: named) }
    }

    /// base64url of each decoded part gives the input's part back; the header part decodes to
    /// JSON that parses to the same header.
    static func checkReserialises(_ jws: CompactJWS, _ bytes: [UInt8]) {
        precondition(bytes.count <= CompactJWS.maximumSize, "a token over the size limit parsed")
        let parts = Bytes.split(bytes, UInt8(ascii: "."))
        precondition(parts.count == 3, "a token of \(parts.count) parts parsed")
        precondition(Array(Base64URL.encode(jws.payloadBytes).utf8) == parts[1], "the payload does not re-serialise to its part")
        precondition(Array(Base64URL.encode(jws.signature).utf8) == parts[2], "the signature does not re-serialise to its part")
        precondition(Array(jws.signingInput) == parts[0] + [UInt8(ascii: ".")] + parts[1], "the signing input is not header.payload")
        guard let header = Base64URL.decodeStrict(parts[0]) else { preconditionFailure("the header part is not strict base64url") }
        precondition(Array(Base64URL.encode(header).utf8) == parts[0], "the header does not re-serialise to its part")
        precondition((try? StrictJSONParser.parse(header)) == .object(jws.header), "the header part does not read as the parsed header")
        for (part, decoded) in [(parts[0], header), (parts[1], jws.payloadBytes), (parts[2], jws.signature)] {
            precondition(Base64Oracle.decode(part) == decoded, "Foundation reads different bytes from a part")
        }
        checkAcceptedJSON(header, maxDepth: 16)
    }

    static func checkPayloadIsStrictJSON(_ jws: CompactJWS, _ bytes: [UInt8]) {
        precondition((try? StrictJSONParser.parse(jws.payloadBytes)) == .object(jws.payload), "the payload bytes do not read as the parsed claims")
        checkAcceptedJSON(jws.payloadBytes, maxDepth: 16)
    }

    /// README step 2, read a second way (Foundation's base64 and JSONSerialization): a header
    /// whose algorithm was accepted names a supported algorithm, carries no key or `crit`, and a
    /// `typ`, if any, of `JWT`.
    static func checkHeaderRules(_ bytes: [UInt8], algorithm: SignatureAlgorithm) {
        let headerPart = Array(bytes.prefix { $0 != UInt8(ascii: ".") })
        guard let json = Base64Oracle.decode(headerPart), let header = JSONOracle.object(json) else {
            preconditionFailure("an accepted header that Foundation cannot read")
        }
        precondition(header["alg"] as? String == algorithm.rawValue, "header alg \(String(describing: header["alg"])) read as \(algorithm.rawValue)")
        precondition(["RS256", "PS256", "ES256", "EdDSA", "ML-DSA-65", "ML-DSA-87"].contains(algorithm.rawValue), "accepted alg \(algorithm.rawValue)")
        for forbidden in ["jku", "x5u", "jwk", "x5c", "crit"] {
            precondition(header[forbidden] == nil, "a header with \"\(forbidden)\" was accepted")
        }
        if let typ = header["typ"] {
            precondition((typ as? String)?.lowercased() == "jwt", "a header with typ \(typ) was accepted")
        }
    }

    /// JSON the strict parser accepted has no duplicate member names (the byte scanner counts the
    /// pairs written, JSONSerialization the distinct ones it kept) and nests no deeper than the limit.
    static func checkAcceptedJSON(_ bytes: [UInt8], maxDepth: Int) {
        let structure = JSONOracle.structure(bytes)
        precondition(structure.depth <= maxDepth, "JSON nested \(structure.depth) deep was accepted (limit \(maxDepth))")
        guard let distinct = JSONOracle.distinctMembers(bytes) else {
            preconditionFailure("the strict parser accepted JSON that JSONSerialization refuses")
        }
        precondition(distinct == structure.members, "JSON with a duplicate member name was accepted (\(structure.members) written, \(distinct) distinct)")
    }
}
