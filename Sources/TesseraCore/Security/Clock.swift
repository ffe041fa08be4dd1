import Foundation

/// Where "now" comes from; tests move it.
public protocol TesseraClock: Sendable {
    func now() -> Date
}

/// The system's wall clock, in whole seconds (stored times are whole seconds).
public struct SystemClock: TesseraClock {
    public init() {}
    public func now() -> Date { Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)) }
}

extension Date {
    /// `2026-11-23T10:00:00Z`: UTC, whole seconds (the fraction dropped), as
    /// `ISO8601DateFormatter` with `.withInternetDateTime` writes it. Computed with integer
    /// arithmetic (the proleptic Gregorian calendar's days-to-civil conversion): on Linux a
    /// Foundation formatter goes through ICU and cost a third of a TR50 command's time.
    public var iso8601: String {
        let seconds = Int64(timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) + "T" + padded(secondOfDay / 3_600, 2) + ":"
            + padded(secondOfDay / 60 % 60, 2) + ":" + padded(secondOfDay % 60, 2) + "Z"
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
    /// `civil_from_days`; an era of 400 years is 146 097 days).
    public static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whole seconds since 1970.
    public var unixSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}
