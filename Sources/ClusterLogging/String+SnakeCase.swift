extension String {
    /// `messagesIn` -> `messages_in`.
    public var snakeCased: String {
        var snake = ""
        for character in self {
            if character.isUppercase, !snake.isEmpty { snake += "_" }
            snake += character.lowercased()
        }
        return snake
    }
}
