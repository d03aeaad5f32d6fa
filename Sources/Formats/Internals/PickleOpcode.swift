/// The opcodes of Python's pickle format, protocols 0–5, as documented by `pickletools`.
///
/// Arguments follow the opcode byte: `uint1`/`uint2`/`uint4`/`uint8` and `int4` are
/// little-endian integers, "line" arguments are text ending in `\n`.
enum PickleOpcode: UInt8 {
    // Protocol 0 and 1: the stack and the memo.
    case mark = 0x28  // (
    case stop = 0x2E  // .
    case pop = 0x30  // 0
    case popMark = 0x31  // 1
    case dup = 0x32  // 2
    case get = 0x67  // g, line
    case binGet = 0x68  // h, uint1
    case longBinGet = 0x6A  // j, uint4
    case put = 0x70  // p, line
    case binPut = 0x71  // q, uint1
    case longBinPut = 0x72  // r, uint4

    // Plain values.
    case none = 0x4E  // N
    case int = 0x49  // I, line
    case binInt = 0x4A  // J, int4
    case binInt1 = 0x4B  // K, uint1
    case binInt2 = 0x4D  // M, uint2
    case long = 0x4C  // L, line
    case float = 0x46  // F, line
    case binFloat = 0x47  // G, big-endian float8
    case string = 0x53  // S, quoted line
    case binString = 0x54  // T, int4 length
    case shortBinString = 0x55  // U, uint1 length
    case unicode = 0x56  // V, raw-unicode-escape line
    case binUnicode = 0x58  // X, uint4 length

    // Containers.
    case emptyTuple = 0x29  // )
    case tuple = 0x74  // t
    case emptyList = 0x5D  // ]
    case list = 0x6C  // l
    case append = 0x61  // a
    case appends = 0x65  // e
    case emptyDict = 0x7D  // }
    case dict = 0x64  // d
    case setItem = 0x73  // s
    case setItems = 0x75  // u

    // Objects.
    case global = 0x63  // c, two lines
    case reduce = 0x52  // R
    case build = 0x62  // b
    case inst = 0x69  // i, two lines
    case obj = 0x6F  // o
    case persId = 0x50  // P, line
    case binPersId = 0x51  // Q

    // Protocol 2.
    case proto = 0x80  // uint1
    case newObj = 0x81
    case ext1 = 0x82
    case ext2 = 0x83
    case ext4 = 0x84
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case newTrue = 0x88
    case newFalse = 0x89
    case long1 = 0x8A  // uint1 length
    case long4 = 0x8B  // int4 length

    // Protocol 3.
    case binBytes = 0x42  // B, uint4 length
    case shortBinBytes = 0x43  // C, uint1 length

    // Protocol 4.
    case shortBinUnicode = 0x8C  // uint1 length
    case binUnicode8 = 0x8D  // uint8 length
    case binBytes8 = 0x8E  // uint8 length
    case emptySet = 0x8F
    case addItems = 0x90
    case frozenSet = 0x91
    case newObjEx = 0x92
    case stackGlobal = 0x93
    case memoize = 0x94
    case frame = 0x95  // uint8 length

    // Protocol 5.
    case byteArray8 = 0x96  // uint8 length
    case nextBuffer = 0x97
    case readonlyBuffer = 0x98

    /// The name `pickletools` gives the opcode, for messages.
    var name: String {
        switch self {
        case .mark: return "MARK"
        case .stop: return "STOP"
        case .pop: return "POP"
        case .popMark: return "POP_MARK"
        case .dup: return "DUP"
        case .get: return "GET"
        case .binGet: return "BINGET"
        case .longBinGet: return "LONG_BINGET"
        case .put: return "PUT"
        case .binPut: return "BINPUT"
        case .longBinPut: return "LONG_BINPUT"
        case .none: return "NONE"
        case .int: return "INT"
        case .binInt: return "BININT"
        case .binInt1: return "BININT1"
        case .binInt2: return "BININT2"
        case .long: return "LONG"
        case .float: return "FLOAT"
        case .binFloat: return "BINFLOAT"
        case .string: return "STRING"
        case .binString: return "BINSTRING"
        case .shortBinString: return "SHORT_BINSTRING"
        case .unicode: return "UNICODE"
        case .binUnicode: return "BINUNICODE"
        case .emptyTuple: return "EMPTY_TUPLE"
        case .tuple: return "TUPLE"
        case .emptyList: return "EMPTY_LIST"
        case .list: return "LIST"
        case .append: return "APPEND"
        case .appends: return "APPENDS"
        case .emptyDict: return "EMPTY_DICT"
        case .dict: return "DICT"
        case .setItem: return "SETITEM"
        case .setItems: return "SETITEMS"
        case .global: return "GLOBAL"
        case .reduce: return "REDUCE"
        case .build: return "BUILD"
        case .inst: return "INST"
        case .obj: return "OBJ"
        case .persId: return "PERSID"
        case .binPersId: return "BINPERSID"
        case .proto: return "PROTO"
        case .newObj: return "NEWOBJ"
        case .ext1: return "EXT1"
        case .ext2: return "EXT2"
        case .ext4: return "EXT4"
        case .tuple1: return "TUPLE1"
        case .tuple2: return "TUPLE2"
        case .tuple3: return "TUPLE3"
        case .newTrue: return "NEWTRUE"
        case .newFalse: return "NEWFALSE"
        case .long1: return "LONG1"
        case .long4: return "LONG4"
        case .binBytes: return "BINBYTES"
        case .shortBinBytes: return "SHORT_BINBYTES"
        case .shortBinUnicode: return "SHORT_BINUNICODE"
        case .binUnicode8: return "BINUNICODE8"
        case .binBytes8: return "BINBYTES8"
        case .emptySet: return "EMPTY_SET"
        case .addItems: return "ADDITEMS"
        case .frozenSet: return "FROZENSET"
        case .newObjEx: return "NEWOBJ_EX"
        case .stackGlobal: return "STACK_GLOBAL"
        case .memoize: return "MEMOIZE"
        case .frame: return "FRAME"
        case .byteArray8: return "BYTEARRAY8"
        case .nextBuffer: return "NEXT_BUFFER"
        case .readonlyBuffer: return "READONLY_BUFFER"
        }
    }
}
