import Foundation

/// The pickle virtual machine, restricted to building plain data.
///
/// A pickle is a program for a stack machine: opcodes push values, build containers from
/// the values above a mark, store and fetch values in a memo, and call globals with
/// arguments. This machine runs the program with a fixed set of globals
/// (``PickleGlobal``) reimplemented as data constructors, so it can never run anything a
/// file names.
///
/// Python's memo holds references: a list memoized while empty and filled later is seen
/// filled when fetched. The machine therefore builds with reference nodes and converts
/// them into ``PickleValue``s once they are complete — keys when they are inserted,
/// arguments when they are used, the result at `STOP`. That conversion is bounded in depth
/// (which also stops self-referencing containers) and in the number of values it makes
/// (which stops a few bytes from expanding into a huge tree through shared references).
struct PickleMachine {
    /// A value under construction.
    final class Node {
        enum Kind {
            case value, list, tuple, dict, set
        }

        let kind: Kind
        /// A `.value` node's value.
        var value: PickleValue = .none
        /// Items of a list or tuple, values of a dict.
        var items: [Node] = []
        /// Keys of a dict, elements of a set.
        var keys: [PickleValue] = []
        /// Where each key is in `keys`.
        var index: [PickleValue: Int] = [:]

        init(_ kind: Kind) {
            self.kind = kind
        }

        init(value: PickleValue) {
            self.kind = .value
            self.value = value
        }

        /// Frees the nodes below this one without a stack frame per level: a pickle can nest
        /// containers hundreds of thousands deep before its depth is checked, and releasing
        /// such a chain node by node, each releasing its items, overflowed the stack. Every
        /// node only reachable from here gives up its items to a work list before it goes.
        deinit {
            var pending = items
            items = []
            while var node = pending.popLast() {
                if isKnownUniquelyReferenced(&node) {
                    pending.append(contentsOf: node.items)
                    node.items = []
                }
            }
        }

        /// Sets a dict entry; an existing key keeps its position, as in Python.
        func setItem(_ key: PickleValue, _ value: Node) {
            if let position = index[key] {
                items[position] = value
            } else {
                index[key] = keys.count
                keys.append(key)
                items.append(value)
            }
        }

        func addElement(_ element: PickleValue) {
            guard index[element] == nil else { return }
            index[element] = keys.count
            keys.append(element)
        }
    }

    let bytes: [UInt8]
    let file: String
    var position = 0
    /// Where the opcode being run starts, for messages.
    var opcodeStart = 0
    var opcode = PickleOpcode.stop
    var stack: [Node] = []
    /// Stack heights at each open `MARK`.
    var marks: [Int] = []
    var memo: [Int: Node] = [:]
    /// How many more values conversion may make.
    var valueBudget: Int
    /// The deepest nesting of containers accepted.
    let maximumDepth: Int

    init(_ data: Data, file: String, maximumDepth: Int) {
        self.bytes = [UInt8](data)
        self.file = file
        self.maximumDepth = maximumDepth
        self.valueBudget = PyTorchPickle.valueBudget(byteCount: data.count)
    }

    // MARK: - Running

    mutating func run() throws(FormatError) -> PickleValue {
        while true {
            opcodeStart = position
            guard position < bytes.count else { throw fail("the pickle ends without STOP") }
            let byte = bytes[position]
            position += 1
            guard let opcode = PickleOpcode(rawValue: byte) else {
                throw fail("unknown opcode 0x\(String(byte, radix: 16, uppercase: true))")
            }
            self.opcode = opcode
            if opcode == .stop { return try finish() }
            do {
                try step(opcode)
            } catch let failure as PickleFailure {
                throw fail(failure.reason)
            } catch let error as FormatError {
                throw error
            } catch {
                throw fail("\(error)")
            }
        }
    }

    func fail(_ reason: String) -> FormatError {
        .malformedPickle(file: file, offset: opcodeStart, reason: reason)
    }

    mutating func finish() throws(FormatError) -> PickleValue {
        guard marks.isEmpty, stack.count == 1 else {
            throw fail("STOP with \(stack.count) values and \(marks.count) marks on the stack instead of one value")
        }
        guard position == bytes.count else { throw fail("\(bytes.count - position) bytes follow STOP") }
        do {
            return try freeze(stack[0])
        } catch {
            throw fail(error.reason)
        }
    }

    mutating func step(_ opcode: PickleOpcode) throws {
        switch opcode {
        case .proto:
            let version = try readInteger(1)
            guard version <= 5 else { throw PickleFailure("protocol \(version) is newer than 5, the newest this reader knows") }
        case .frame:
            let length = try readInteger(8)
            guard length <= UInt64(bytes.count - position) else {
                throw PickleFailure("a frame of \(length) bytes, but only \(bytes.count - position) remain")
            }
        case .stop:
            preconditionFailure("STOP is handled by run()")

        // The stack and the memo.
        case .mark:
            marks.append(stack.count)
        case .pop:
            if stack.count > fence {
                stack.removeLast()
            } else if !marks.isEmpty {
                marks.removeLast()
            } else {
                throw PickleFailure("POP on an empty stack")
            }
        case .popMark:
            _ = try popToMark()
        case .dup:
            push(try top())
        case .get:
            try fetch(readDecimal())
        case .binGet:
            try fetch(Int(readInteger(1)))
        case .longBinGet:
            try fetch(Int(readInteger(4)))
        case .put:
            try store(readDecimal())
        case .binPut:
            try store(Int(readInteger(1)))
        case .longBinPut:
            try store(Int(readInteger(4)))
        case .memoize:
            try store(memo.count)

        // Plain values.
        case .none:
            push(.none)
        case .newTrue:
            push(.bool(true))
        case .newFalse:
            push(.bool(false))
        case .int:
            let text = try readLine()
            switch text {
            case "00": push(.bool(false))
            case "01": push(.bool(true))
            default:
                guard let number = Int(text) else { throw PickleFailure("INT argument '\(text)' is not an integer that fits 64 bits") }
                push(.int(number))
            }
        case .long:
            var text = try readLine()
            if text.hasSuffix("L") { text.removeLast() }
            guard let number = Int(text) else { throw PickleFailure("LONG argument '\(text)' is not an integer that fits 64 bits") }
            push(.int(number))
        case .binInt:
            push(.int(Int(Int32(bitPattern: UInt32(try readInteger(4))))))
        case .binInt1:
            push(.int(Int(try readInteger(1))))
        case .binInt2:
            push(.int(Int(try readInteger(2))))
        case .long1:
            push(Self.integer(littleEndian: try read(Int(readInteger(1)))))
        case .long4:
            push(Self.integer(littleEndian: try read(readSignedLength())))
        case .float:
            let text = try readLine()
            guard let number = Double(text) else { throw PickleFailure("FLOAT argument '\(text)' is not a number") }
            push(.float(number))
        case .binFloat:
            push(.float(Double(bitPattern: try readInteger(8, bigEndian: true))))
        case .binUnicode:
            push(.string(try readUTF8(try readLength(4))))
        case .shortBinUnicode:
            push(.string(try readUTF8(try readLength(1))))
        case .binUnicode8:
            push(.string(try readUTF8(try readLength(8))))
        case .binString:
            push(Self.legacyString(try read(readSignedLength())))
        case .shortBinString:
            push(Self.legacyString(try read(readLength(1))))
        case .binBytes:
            push(.bytes(try read(readLength(4))))
        case .shortBinBytes:
            push(.bytes(try read(readLength(1))))
        case .binBytes8, .byteArray8:
            push(.bytes(try read(readLength(8))))
        case .string, .unicode:
            throw PickleFailure("\(opcode.name), a protocol 0 text string, is not supported")

        // Containers.
        case .emptyTuple:
            push(Node(.tuple))
        case .tuple:
            pushTuple(try popToMark())
        case .tuple1, .tuple2, .tuple3:
            let count = Int(opcode.rawValue - PickleOpcode.tuple1.rawValue) + 1
            guard stack.count - fence >= count else { throw PickleFailure("\(opcode.name) needs \(count) values on the stack") }
            pushTuple(Array(stack.suffix(count)), replacing: count)
        case .emptyList:
            push(Node(.list))
        case .list:
            let list = Node(.list)
            list.items = try popToMark()
            push(list)
        case .append:
            let item = try pop()
            try container(.list, of: top()).items.append(item)
        case .appends:
            let items = try popToMark()
            try container(.list, of: top()).items.append(contentsOf: items)
        case .emptyDict:
            push(Node(.dict))
        case .dict:
            let dict = Node(.dict)
            try setItems(try popToMark(), in: dict)
            push(dict)
        case .setItem:
            let value = try pop()
            let key = try pop()
            try setItems([key, value], in: container(.dict, of: top()))
        case .setItems:
            let pairs = try popToMark()
            try setItems(pairs, in: container(.dict, of: top()))
        case .emptySet:
            push(Node(.set))
        case .addItems:
            let elements = try popToMark()
            let set = try container(.set, of: top())
            for element in elements { set.addElement(try freezeOrFail(element)) }
        case .frozenSet:
            let set = Node(.set)
            for element in try popToMark() { set.addElement(try freezeOrFail(element)) }
            push(set)

        // Objects.
        case .global:
            let module = try readLine()
            let name = try readLine()
            push(try resolve(module: module, name: name))
        case .stackGlobal:
            let name = try pop()
            let module = try pop()
            guard case let .string(nameText) = name.value, case let .string(moduleText) = module.value else {
                throw PickleFailure("STACK_GLOBAL needs a module name and a global name as strings")
            }
            push(try resolve(module: moduleText, name: nameText))
        case .inst:
            let global = try resolve(module: readLine(), name: readLine())
            push(try call(global, try popToMark()))
        case .obj:
            let items = try popToMark()
            guard let global = items.first else { throw PickleFailure("OBJ needs a class") }
            push(try call(global, Array(items.dropFirst())))
        case .reduce, .newObj:
            let arguments = try pop()
            let callable = try pop()
            guard arguments.kind == .tuple else { throw PickleFailure("\(opcode.name) arguments are not a tuple") }
            push(try call(callable, arguments.items))
        case .newObjEx:
            let keywords = try pop()
            let arguments = try pop()
            let callable = try pop()
            guard arguments.kind == .tuple, keywords.kind == .dict, keywords.keys.isEmpty else {
                throw PickleFailure("NEWOBJ_EX is supported only with positional arguments")
            }
            push(try call(callable, arguments.items))
        case .build:
            let state = try pop()
            let object = try top()
            // A state dict (an OrderedDict) carries `_metadata` (module versions) as an
            // attribute; attributes of dicts are dropped.
            let noState = state.kind == .value && state.value == .none
            guard object.kind == .dict, state.kind == .dict || state.kind == .tuple || noState else {
                throw PickleFailure("BUILD sets the state of something other than a dict")
            }
        case .binPersId:
            let id = try freezeOrFail(try pop())
            push(.storage(try PickleGlobal.persistentStorage(id)))
        case .persId:
            throw PickleFailure("PERSID with a text id; PyTorch uses BINPERSID with a tuple")
        case .ext1, .ext2, .ext4:
            throw PickleFailure("\(opcode.name) names a global through the extension registry, which is not allowed")
        case .nextBuffer:
            throw PickleFailure("NEXT_BUFFER needs out-of-band buffers, which are not supported")
        case .readonlyBuffer:
            _ = try top()
        }
    }

    // MARK: - Stack

    /// The lowest stack index the current mark lets opcodes touch.
    var fence: Int { marks.last ?? 0 }

    mutating func push(_ node: Node) {
        stack.append(node)
    }

    mutating func push(_ value: PickleValue) {
        stack.append(Node(value: value))
    }

    mutating func pop() throws(PickleFailure) -> Node {
        guard stack.count > fence else { throw PickleFailure("\(opcode.name) pops from an empty stack") }
        return stack.removeLast()
    }

    func top() throws(PickleFailure) -> Node {
        guard stack.count > fence, let node = stack.last else {
            throw PickleFailure("\(opcode.name) needs a value on the stack")
        }
        return node
    }

    /// Removes and returns the values above the topmost mark, and the mark.
    mutating func popToMark() throws(PickleFailure) -> [Node] {
        guard let mark = marks.popLast() else { throw PickleFailure("\(opcode.name) without a MARK") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    mutating func pushTuple(_ items: [Node], replacing count: Int = 0) {
        stack.removeLast(count)
        let tuple = Node(.tuple)
        tuple.items = items
        push(tuple)
    }

    func container(_ kind: Node.Kind, of node: Node) throws(PickleFailure) -> Node {
        guard node.kind == kind else { throw PickleFailure("\(opcode.name) on something other than a \(kind)") }
        return node
    }

    mutating func setItems(_ pairs: [Node], in dict: Node) throws(PickleFailure) {
        guard pairs.count.isMultiple(of: 2) else { throw PickleFailure("\(opcode.name) with an odd number of values") }
        for pair in stride(from: 0, to: pairs.count, by: 2) {
            dict.setItem(try freezeOrFail(pairs[pair]), pairs[pair + 1])
        }
    }

    mutating func fetch(_ index: Int) throws(PickleFailure) {
        guard let node = memo[index] else {
            throw PickleFailure("\(opcode.name) refers to memo entry \(index), which was never stored")
        }
        push(node)
    }

    mutating func store(_ index: Int) throws(PickleFailure) {
        guard index >= 0 else { throw PickleFailure("\(opcode.name) with a negative memo index") }
        memo[index] = try top()
    }

    // MARK: - Globals

    /// The allowed global `module.name` as a value, or the refusal.
    func resolve(module: String, name: String) throws(FormatError) -> Node {
        guard PickleGlobal(module: module, name: name) != nil else {
            throw FormatError.refusedGlobal(file: file, global: "\(module).\(name)")
        }
        return Node(value: .global(module: module, name: name))
    }

    mutating func call(_ callable: Node, _ arguments: [Node]) throws -> Node {
        guard case let .global(module, name) = callable.value, let global = PickleGlobal(module: module, name: name) else {
            throw PickleFailure("\(opcode.name) calls something other than an allowed global")
        }
        var values: [PickleValue] = []
        for argument in arguments { values.append(try freezeOrFail(argument)) }
        do {
            return try global.call(values)
        } catch {
            throw PickleFailure("calling '\(module).\(name)': \(error.reason)")
        }
    }

    // MARK: - Converting nodes to values

    mutating func freezeOrFail(_ node: Node) throws(PickleFailure) -> PickleValue {
        try freeze(node)
    }

    mutating func freeze(_ node: Node, depth: Int = 0) throws(PickleFailure) -> PickleValue {
        guard depth <= maximumDepth else {
            throw PickleFailure("values nest more than \(maximumDepth) levels deep, or a container holds itself "
                + ResourceLimit.pickleDepth.exceeded)
        }
        guard valueBudget > 0 else {
            throw PickleFailure("the pickle expands to more values than its size justifies (shared references repeated too often)")
        }
        valueBudget -= 1
        switch node.kind {
        case .value:
            return node.value
        case .list:
            return .list(try freeze(node.items, depth: depth))
        case .tuple:
            return .tuple(try freeze(node.items, depth: depth))
        case .set:
            return .set(node.keys)
        case .dict:
            let values = try freeze(node.items, depth: depth)
            return .dict(zip(node.keys, values).map { PickleValue.Entry(key: $0, value: $1) })
        }
    }

    mutating func freeze(_ nodes: [Node], depth: Int) throws(PickleFailure) -> [PickleValue] {
        var values: [PickleValue] = []
        values.reserveCapacity(nodes.count)
        for node in nodes { values.append(try freeze(node, depth: depth + 1)) }
        return values
    }

    // MARK: - Reading arguments

    mutating func read(_ count: Int) throws(PickleFailure) -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else {
            throw PickleFailure("\(opcode.name) needs \(count) bytes but only \(bytes.count - position) remain")
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func readInteger(_ width: Int, bigEndian: Bool = false) throws(PickleFailure) -> UInt64 {
        let raw = try read(width)
        let ordered = bigEndian ? raw : raw.reversed()
        return ordered.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// An unsigned length of `width` bytes, checked against the bytes left.
    mutating func readLength(_ width: Int) throws(PickleFailure) -> Int {
        let length = try readInteger(width)
        guard length <= UInt64(bytes.count - position) else {
            throw PickleFailure("\(opcode.name) declares \(length) bytes but only \(bytes.count - position) remain")
        }
        return Int(length)
    }

    /// A signed 4-byte length, which must not be negative.
    mutating func readSignedLength() throws(PickleFailure) -> Int {
        let length = Int(Int32(bitPattern: UInt32(try readInteger(4))))
        guard length >= 0 else { throw PickleFailure("\(opcode.name) declares a negative length \(length)") }
        return length
    }

    mutating func readUTF8(_ count: Int) throws(PickleFailure) -> String {
        guard let text = String(validating: try read(count), as: UTF8.self) else {
            throw PickleFailure("\(opcode.name) holds text that is not valid UTF-8")
        }
        return text
    }

    /// Text up to the next newline (which is consumed), as ASCII.
    mutating func readLine() throws(PickleFailure) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            throw PickleFailure("\(opcode.name) argument has no terminating newline")
        }
        let line = bytes[position..<end]
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw PickleFailure("\(opcode.name) argument is not printable ASCII")
        }
        position = end + 1
        return String(decoding: line, as: UTF8.self)
    }

    mutating func readDecimal() throws(PickleFailure) -> Int {
        let text = try readLine()
        guard let number = Int(text) else { throw PickleFailure("\(opcode.name) argument '\(text)' is not an integer") }
        return number
    }

    /// A little-endian two's complement integer, as `LONG1` and `LONG4` store it.
    static func integer(littleEndian bytes: [UInt8]) -> PickleValue {
        guard let last = bytes.last else { return .int(0) }
        let negative = last & 0x80 != 0
        // Bytes beyond the eighth must only repeat the sign for the value to fit.
        let fill: UInt8 = negative ? 0xFF : 0x00
        if bytes.count > 8 && !bytes[8...].allSatisfy({ $0 == fill }) { return .bigInt(bytes) }
        if bytes.count > 8 && (bytes[7] & 0x80 != 0) != negative { return .bigInt(bytes) }
        var pattern: UInt64 = negative ? .max : 0
        for (index, byte) in bytes.prefix(8).enumerated() {
            pattern &= ~(UInt64(0xFF) << (8 * UInt64(index)))
            pattern |= UInt64(byte) << (8 * UInt64(index))
        }
        return .int(Int(Int64(bitPattern: pattern)))
    }

    /// Python 2 `str`: text when it is valid UTF-8, bytes otherwise.
    static func legacyString(_ bytes: [UInt8]) -> PickleValue {
        String(validating: bytes, as: UTF8.self).map(PickleValue.string) ?? .bytes(bytes)
    }
}
