import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TesseraCore

/// The encoded `200` answers of `/auth/verify`, by the identity parts they name: a repeated
/// credential — nginx asks once per proxied request — gets its headers and JSON body copied
/// instead of built and escaped again. The answer is a pure function of those parts, so a
/// remembered one is byte for byte what a new encoding would give; verification itself still
/// runs on every request. Bounded: emptied when `capacity` identities are held.
final class AcceptedResponses: Sendable {
    /// What an acceptance names, in `ForwardAuthController.acceptedFields`' order.
    struct Identity: Hashable, Sendable {
        let tokenType: String
        let subject: String
        let organizationID: UUID
        let organizationName: String
        let scopes: [String]
        let audiences: [String]
        let clientID: String?
        let role: String?
        let tokenID: String?
        let expiresAt: Int64

        init(_ identity: VerifiedIdentity) {
            tokenType = identity.tokenType
            subject = identity.subject
            organizationID = identity.organization.id
            organizationName = identity.organization.domainName
            scopes = identity.scopes
            audiences = identity.audiences
            clientID = identity.clientID
            role = identity.role
            tokenID = identity.tokenID
            expiresAt = Int64(identity.expiresAt.timeIntervalSince1970)
        }
    }

    /// An answer's headers (`Content-Type` included) and body.
    struct Encoded: Sendable {
        let headers: HTTPFields
        let body: ByteBuffer
    }

    private let encoded = Mutex<[Identity: Encoded]>([:])
    let capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    /// The `200` for `identity`: remembered, or made by `encode` and remembered.
    func response(for identity: VerifiedIdentity, encode: (VerifiedIdentity) -> Encoded) -> Response {
        let key = Identity(identity)
        let answer: Encoded
        if let hit = encoded.withLock({ $0[key] }) {
            answer = hit
        } else {
            answer = encode(identity)
            encoded.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = answer
            }
        }
        return Response(status: .ok, headers: answer.headers, body: ResponseBody(byteBuffer: answer.body))
    }

    /// How many answers are held.
    var count: Int { encoded.withLock { $0.count } }
}
