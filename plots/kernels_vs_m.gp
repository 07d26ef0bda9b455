# Kernel speed and roofline fraction against m (activation rows), one series per kernel, for one
# shape, weight placement and thread count.
# gnuplot -e "data='report/kernels-m-hot-1t.dat'; out='x.png'; title='...'; n=N" plots/kernels_vs_m.gp
# data: N blocks, each a quoted series title, then rows "m gmacs roof_percent" sorted by m
# (roof_percent: of the bounding roof, or of the DRAM bandwidth probe in older results).
set terminal pngcairo size 1400,620 font 'DejaVu Sans,11'
set output out
set multiplot title title noenhanced
set logscale xy
set xlabel 'm (activation rows; 1 = decode)'
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
# 8 colours and 7 point types cycle independently: up to 56 series stay distinguishable.
set origin 0, 0
set size 0.4, 0.95
set ylabel 'GMAC/s'
set title 'speed'
unset key
plot for [i=0:n-1] data index i using 1:2 with linespoints lw 2 lc (i % 8) + 1 pt (i % 7) + 4 \
    title columnheader(1)
# The right panel carries the legend outside, so it covers no data.
set origin 0.4, 0
set size 0.6, 0.95
set ylabel 'fraction of the bounding roof (%)'
set title 'of the bounding roof (results before sized roofs: of a DRAM probe, so hot > 100 %)'
set key outside right top vertical noenhanced font ',9' spacing 1.1
plot for [i=0:n-1] data index i using 1:3 with linespoints lw 2 lc (i % 8) + 1 pt (i % 7) + 4 \
    title columnheader(1)
unset multiplot
