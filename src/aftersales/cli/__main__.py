from aftersales.cli import main

main(prog_name="aftersales")
