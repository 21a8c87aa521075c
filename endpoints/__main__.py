from endpoints.cli import main

main()
