# intern-bench: hot-mortal (full mode). Run: gnuplot 'docs/bench/same-hash/plots/hot-mortal.gp'
set terminal pngcairo size 960,600 font ',10'
set output 'docs/bench/same-hash/plots/hot-mortal.png'
set title "hot-mortal: one pre-interned string shared by all threads, counted references\n(median of 5 x 0.2 s, 2 cores)" noenhanced
set xlabel 'threads'
set ylabel 'Mops/s'
set logscale x 2
set xtics (1, 2, 4, 8, 16)
set xrange [0.833333:19.2]
set yrange [0:*]
set grid
set key outside right top noenhanced
set datafile missing '?'
set arrow from 2, graph 0 to 2, graph 1 nohead dashtype 2
set label 'cores' at 2, graph 0.97 offset 0.5,0
plot \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:2 title columnheader(2) with points pointtype 9 pointsize 2.5 linetype 1, \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:3 title columnheader(3) with linespoints linewidth 3.5 pointtype 7 pointsize 1.2 linetype 2, \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:4 title columnheader(4) with linespoints linewidth 3.5 pointtype 7 pointsize 1.2 linetype 3, \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:5 title columnheader(5) with linespoints linewidth 3.5 pointtype 7 pointsize 1.2 linetype 4, \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:6 title columnheader(6) with linespoints linewidth 1.5 pointtype 7 pointsize 0.8 linetype 5, \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:7 title columnheader(7) with linespoints linewidth 1.5 pointtype 7 pointsize 0.8 linetype 6, \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:8 title columnheader(8) with linespoints linewidth 1.5 pointtype 7 pointsize 0.8 linetype 8, \
  'docs/bench/same-hash/plots/hot-mortal.dat' using 1:9 title columnheader(9) with linespoints linewidth 1.5 pointtype 7 pointsize 0.8 linetype 9
