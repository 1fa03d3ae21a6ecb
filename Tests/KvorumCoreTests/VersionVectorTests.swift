import Foundation
import Testing

@testable import KvorumCore

struct VersionVectorTests {
    /// Zero counters are dropped, and a missing actor reads as zero.
    @Test func zeroCountersDropped() {
        let vector = VersionVector(["a": 0, "b": 2, "c": 0])
        #expect(vector.counters == ["b": 2])
        #expect(vector["a"] == 0)
        #expect(vector["zzz"] == 0)
        #expect(VersionVector(["a": 0]).isEmpty)
        #expect(VersionVector(["a": 0]) == VersionVector())
    }

    /// A vector covers exactly the dots at or below its counter for that actor.
    @Test func covers() {
        let vector = VersionVector(["a": 3])
        #expect(vector.covers(Dot(actor: "a", counter: 1)))
        #expect(vector.covers(Dot(actor: "a", counter: 3)))
        #expect(!vector.covers(Dot(actor: "a", counter: 4)))
        #expect(!vector.covers(Dot(actor: "b", counter: 1)))
    }

    /// `dominatesOrEquals` is reflexive, holds for larger vectors, and fails both ways for concurrent ones.
    @Test func dominatesOrEquals() {
        let small = VersionVector(["a": 1])
        let large = VersionVector(["a": 2, "b": 1])
        let other = VersionVector(["c": 1])
        #expect(large.dominatesOrEquals(large))
        #expect(large.dominatesOrEquals(small))
        #expect(!small.dominatesOrEquals(large))
        #expect(large.dominatesOrEquals(VersionVector()))
        #expect(!VersionVector().dominatesOrEquals(small))
        #expect(!large.dominatesOrEquals(other))
        #expect(!other.dominatesOrEquals(large))
    }

    /// `add` records one event: it extends a contiguous range, or stays an
    /// isolated dot until the gap below it closes; it never lowers anything.
    @Test func add() {
        var vector = VersionVector(["a": 2])
        vector.add(Dot(actor: "a", counter: 5))
        #expect(vector == VersionVector(["a": 2], dots: [Dot(actor: "a", counter: 5)]))
        #expect(vector.covers(Dot(actor: "a", counter: 5)))
        #expect(!vector.covers(Dot(actor: "a", counter: 3)))
        #expect(vector.maxCounter(of: "a") == 5)
        vector.add(Dot(actor: "a", counter: 3))
        vector.add(Dot(actor: "a", counter: 1))
        vector.add(Dot(actor: "b", counter: 1))
        #expect(vector == VersionVector(["a": 3, "b": 1], dots: [Dot(actor: "a", counter: 5)]))
        vector.add(Dot(actor: "a", counter: 4))
        #expect(vector == VersionVector(["a": 5, "b": 1]))
        #expect(vector.dots.isEmpty)
    }

    /// An isolated dot does not vouch for the events below it.
    @Test func isolatedDotsDominance() {
        let withDot = VersionVector(["a": 1], dots: [Dot(actor: "a", counter: 3)])
        #expect(!withDot.dominatesOrEquals(VersionVector(["a": 3])))
        #expect(VersionVector(["a": 3]).dominatesOrEquals(withDot))
        #expect(withDot.dominatesOrEquals(VersionVector(dots: [Dot(actor: "a", counter: 3)])))
        #expect(withDot.joined(VersionVector(["a": 2])) == VersionVector(["a": 3]))
    }

    /// `join` is the pointwise maximum: commutative, idempotent, and `joined` leaves the receiver alone.
    @Test func join() {
        let x = VersionVector(["a": 3, "b": 1])
        let y = VersionVector(["b": 4, "c": 2])
        let expected = VersionVector(["a": 3, "b": 4, "c": 2])
        #expect(x.joined(y) == expected)
        #expect(y.joined(x) == expected)
        #expect(expected.joined(x) == expected)
        #expect(x.joined(x) == x)
        var mutated = x
        mutated.join(y)
        #expect(mutated == expected)
        #expect(x == VersionVector(["a": 3, "b": 1]))
    }

    /// Actors are listed in byte-wise order (upper case before lower case, ASCII before non-ASCII).
    @Test func actorsInByteOrder() {
        let vector = VersionVector(["b": 1, "é": 1, "a": 1, "B": 1, "z": 1, "a.10": 1, "a.9": 1])
        #expect(vector.actors == ["B", "a", "a.10", "a.9", "b", "z", "é"])
    }

    /// JSON encoding lists ranges and isolated dots in canonical order, and
    /// decoding restores the vector.
    @Test func codableRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var vector = VersionVector()
        for actor in ["node03.1", "node01.2", "node02.1", "node01.10"] {
            vector.add(Dot(actor: actor, counter: 1))
        }
        vector.add(Dot(actor: "node02.1", counter: 4))
        let text = String(decoding: try encoder.encode(vector), as: UTF8.self)
        #expect(
            text == #"{"counters":[{"actor":"node01.10","counter":1},{"actor":"node01.2","counter":1},"#
                + #"{"actor":"node02.1","counter":1},{"actor":"node03.1","counter":1}],"#
                + #""dots":[{"actor":"node02.1","counter":4}]}"#)
        #expect(try JSONDecoder().decode(VersionVector.self, from: Data(text.utf8)) == vector)
    }

    /// Decoding drops zero counters, keeps the highest counter of a repeated
    /// actor, and folds dots that extend a range.
    @Test func decodingNormalises() throws {
        let text =
            #"{"counters":[{"actor":"b","counter":2},{"actor":"a","counter":0},{"actor":"b","counter":5}],"#
            + #""dots":[{"actor":"b","counter":6},{"actor":"c","counter":2}]}"#
        #expect(
            try JSONDecoder().decode(VersionVector.self, from: Data(text.utf8))
                == VersionVector(["b": 6], dots: [Dot(actor: "c", counter: 2)]))
    }
}
