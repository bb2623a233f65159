from cityhub.cli import main

main()
