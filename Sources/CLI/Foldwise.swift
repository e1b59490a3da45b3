@main
struct Foldwise {
    static func main() {}
}
