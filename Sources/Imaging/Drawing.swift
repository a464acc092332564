import Foundation

/// A box to draw with its caption ("nodule 0.87").
public struct Annotation: Sendable {
    public var box: Box
    public var label: String
    public var score: Float?
    public init(box: Box, label: String, score: Float? = nil) { self.box = box; self.label = label; self.score = score }
}

extension Image {
    /// An RGB copy with each annotation's box outlined and captioned in a distinct colour.
    public func drawing(_ annotations: [Annotation], lineWidth: Int = 2) -> Image {
        var out = rgb()
        let palette: [(Float, Float, Float)] = [(1, 0.2, 0.2), (0.2, 0.9, 0.2), (0.3, 0.5, 1), (1, 0.8, 0), (1, 0.3, 1), (0, 0.9, 0.9)]
        var colorOf: [String: (Float, Float, Float)] = [:]
        for a in annotations {
            let color = colorOf[a.label] ?? palette[colorOf.count % palette.count]
            colorOf[a.label] = color
            let b = a.box.clipped(width: Float(width), height: Float(height))
            let (x1, y1) = (Int(b.x1), Int(b.y1)), (x2, y2) = (max(Int(b.x2) - 1, Int(b.x1)), max(Int(b.y2) - 1, Int(b.y1)))
            for t in 0..<lineWidth {
                out.fillRect(x1, y1 + t, x2, y1 + t, color); out.fillRect(x1, y2 - t, x2, y2 - t, color)
                out.fillRect(x1 + t, y1, x1 + t, y2, color); out.fillRect(x2 - t, y1, x2 - t, y2, color)
            }
            let caption = a.score.map { a.label + String(format: " %.2f", $0) } ?? a.label
            let textY = y1 - BitmapFont.height - 2 >= 0 ? y1 - BitmapFont.height - 2 : min(y2 + 2, height - BitmapFont.height)
            out.fillRect(x1, textY - 1, x1 + BitmapFont.width(of: caption), textY + BitmapFont.height, (0, 0, 0))
            out.drawText(caption, x: x1 + 1, y: textY, color: color)
        }
        return out
    }

    /// Fills the inclusive rectangle, clipped to the image (RGB images).
    mutating func fillRect(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, _ color: (Float, Float, Float)) {
        let rgb = [color.0, color.1, color.2]
        let (xa, xb, ya, yb) = (max(0, x1), min(width - 1, x2), max(0, y1), min(height - 1, y2))
        guard xa <= xb, ya <= yb else { return }
        for y in ya...yb { for x in xa...xb { for c in 0..<channels { self[c, y, x] = rgb[c] } } }
    }

    public mutating func drawText(_ text: String, x: Int, y: Int, color: (Float, Float, Float)) {
        var cx = x
        for ch in text {
            let rows = BitmapFont.glyph(ch)
            for (r, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - col)) != 0 {
                    fillRect(cx + col, y + r, cx + col, y + r, color)
                }
            }
            cx += BitmapFont.glyphWidth + 1
        }
    }
}

/// A 5x7 pixel font for captions: digits, capital letters (lower case drawn as capitals) and the
/// punctuation that labels and scores use. Each glyph is 7 rows of 5 bits, most significant bit left.
enum BitmapFont {
    static let glyphWidth = 5
    static let height = 7

    static func width(of text: String) -> Int { text.count * (glyphWidth + 1) }

    static func glyph(_ ch: Character) -> [UInt8] {
        let key = Character(ch.uppercased())
        return glyphs[key] ?? glyphs["?"]!
    }

    /// Rows drawn as text ('#' on, '.' off) so the shapes can be read and edited here.
    private static let drawn: [Character: String] = [
        "0": ".###. #...# #..## #.#.# ##..# #...# .###.", "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
        "2": ".###. #...# ....# ...#. ..#.. .#... #####", "3": "####. ....# ....# .###. ....# ....# ####.",
        "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.", "5": "##### #.... ####. ....# ....# #...# .###.",
        "6": ".###. #.... #.... ####. #...# #...# .###.", "7": "##### ....# ...#. ..#.. .#... .#... .#...",
        "8": ".###. #...# #...# .###. #...# #...# .###.", "9": ".###. #...# #...# .#### ....# ....# .###.",
        "A": ".###. #...# #...# ##### #...# #...# #...#", "B": "####. #...# #...# ####. #...# #...# ####.",
        "C": ".###. #...# #.... #.... #.... #...# .###.", "D": "####. #...# #...# #...# #...# #...# ####.",
        "E": "##### #.... #.... ####. #.... #.... #####", "F": "##### #.... #.... ####. #.... #.... #....",
        "G": ".###. #...# #.... #.### #...# #...# .####", "H": "#...# #...# #...# ##### #...# #...# #...#",
        "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
        "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#", "L": "#.... #.... #.... #.... #.... #.... #####",
        "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#", "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
        "O": ".###. #...# #...# #...# #...# #...# .###.", "P": "####. #...# #...# ####. #.... #.... #....",
        "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#", "R": "####. #...# #...# ####. #.#.. #..#. #...#",
        "S": ".#### #.... #.... .###. ....# ....# ####.", "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
        "U": "#...# #...# #...# #...# #...# #...# .###.", "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
        "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
        "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", "Z": "##### ....# ...#. ..#.. .#... #.... #####",
        " ": "..... ..... ..... ..... ..... ..... .....", ".": "..... ..... ..... ..... ..... .##.. .##..",
        ",": "..... ..... ..... ..... .##.. ..#.. .#...", ":": "..... .##.. .##.. ..... .##.. .##.. .....",
        "-": "..... ..... ..... ##### ..... ..... .....", "_": "..... ..... ..... ..... ..... ..... #####",
        "/": "....# ....# ...#. ..#.. .#... #.... #....", "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
        ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...", "%": "##..# ##.#. ...#. ..#.. .#... .#.## #..##",
        "'": "..#.. ..#.. .#... ..... ..... ..... .....", "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
        "?": ".###. #...# ....# ...#. ..#.. ..... ..#.."
    ]

    private static let glyphs: [Character: [UInt8]] = drawn.mapValues { rows in
        rows.split(separator: " ").map { row in row.reduce(UInt8(0)) { $0 << 1 | ($1 == "#" ? 1 : 0) } }
    }
}
